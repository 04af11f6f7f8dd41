"""Fixtures of the activity tests: real embedded stores in a temporary home."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from heysh.config import Settings
from heysh.stores.factory import Stores, open_stores


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    """Every embedded store under a fresh home."""
    opened = open_stores(Settings(home=tmp_path / "home"))
    yield opened
    opened.close()


@pytest.fixture
def domain(stores: Stores) -> str:
    """A domain with a two-controller pool, an admin and a contributor."""
    config = {"controller_pool": ["ann", "bob"], "auto_reject_threshold": 3.0}
    stores.metadata.upsert_domain(
        "news", "News", "Business news.", json.dumps(config), "en"
    )
    for user, role in (("ann", "controller"), ("ada", "admin"), ("uma", "contributor")):
        stores.metadata.set_membership("news", user, role)
    return "news"
