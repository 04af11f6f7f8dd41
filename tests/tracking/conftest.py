"""Fixtures from tests/research_fixtures.py and the LLM protocol servers."""

from tests.llm.conftest import anthropic_server
from tests.research_fixtures import heysh_env, session_cache_root, shared_datasets

__all__ = ["anthropic_server", "heysh_env", "session_cache_root", "shared_datasets"]
