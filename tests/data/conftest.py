"""Fixtures for the data-layer tests: shared collections, demo corpus, writers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from heysh.data.corpus import LabelledCorpus
from heysh.data.demo import generate_demo_corpus

DATASETS_ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


@pytest.fixture(scope="session")
def datasets_root() -> Path:
    """The shared labelled collections (../shared/datasets from the repo root)."""
    if not (DATASETS_ROOT / "README.md").is_file():
        pytest.skip(f"shared datasets not found at {DATASETS_ROOT.resolve()}")
    return DATASETS_ROOT


@pytest.fixture(scope="session")
def demo_corpus() -> LabelledCorpus:
    """The default demo corpus, generated once per run."""
    return generate_demo_corpus()


@pytest.fixture(scope="session")
def small_demo_corpus() -> LabelledCorpus:
    """A quick demo corpus with 20 relevant documents per domain."""
    return generate_demo_corpus(seed=3, docs_per_domain=20)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write ``records`` as JSON Lines and return ``path``."""
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def jsonl_writer(tmp_path: Path) -> Callable[[str, Iterable[dict[str, Any]]], Path]:
    """Write a JSONL file under tmp_path: ``writer(name, records) -> path``."""

    def write(name: str, records: Iterable[dict[str, Any]]) -> Path:
        return write_jsonl(tmp_path / name, records)

    return write
