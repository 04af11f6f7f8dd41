"""Deterministic Temporal workflows; no I/O and no heavy imports."""
