"""The research job: compare relevance models, tune thresholds, register the winner."""
