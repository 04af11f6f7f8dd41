"""heysh: decide whether a document belongs in a topical domain."""

__version__ = "0.1.0"
