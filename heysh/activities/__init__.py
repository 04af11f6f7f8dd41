"""Temporal activities, one module per task queue: ``ai``, ``storage``, ``general``.

This package's ``__init__`` imports nothing, so the workflow sandbox can load
``heysh.activities.contracts`` without pulling in models or store clients.
"""
