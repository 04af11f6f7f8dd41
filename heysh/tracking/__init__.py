"""MLflow tracking, the model registry, aliases and the promotion gate."""
