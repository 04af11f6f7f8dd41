"""The ``heysh`` command."""
