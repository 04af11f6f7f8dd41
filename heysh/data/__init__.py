"""Labelled data: loading, cleaning, the demo corpus, splits and hashes."""
