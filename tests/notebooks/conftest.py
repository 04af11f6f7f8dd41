"""Fixtures for these tests come from tests/research_fixtures.py."""

from tests.research_fixtures import heysh_env, session_cache_root, shared_datasets

__all__ = ["heysh_env", "session_cache_root", "shared_datasets"]
