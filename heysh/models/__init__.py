"""Relevance scorers behind one interface, calibration, and the MLflow wrapper."""
