"""AI helpers around documents: topics, summaries and agent tasks.

Offline variants (no network, no model download) live in ``topics`` and
``summaries``; LLM-backed variants live in their own modules.
"""
