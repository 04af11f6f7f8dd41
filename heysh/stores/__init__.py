"""Vector index, knowledge graph, metadata database and archive.

Each store is a ``Protocol`` in ``heysh.stores.base``; adapters (embedded
defaults and production servers) are chosen by URL in configuration.
"""
