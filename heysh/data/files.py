"""Load labelled pairs from a JSONL, JSON, CSV or Parquet file.

The file holds one row per (document, domain) pair with the columns ``id``,
``domain``, ``text`` and ``label`` (0/1, true/false or relevant/not_relevant),
and optionally ``grade``, ``title``, ``lang``, ``domain_name``,
``domain_description`` and ``hard_negative``. A document judged for several
domains repeats its text on each row; the text must be the same on every row
of the id.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heysh.data._jsonl import read_jsonl, require_keys
from heysh.data._pairs import corpus_from_pairs_frame
from heysh.data.corpus import LabelledCorpus
from heysh.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_logger = logging.getLogger(__name__)

PAIRS_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def load_pairs_file(
    path: Path,
    *,
    domains_path: Path | None = None,
    description_language: str | None = None,
) -> LabelledCorpus:
    """Load a pairs file as a LabelledCorpus.

    Domain descriptions come from the ``domain_description`` column, else from
    ``domains_path`` (a ``domains.jsonl`` in the shared datasets' schema, matched
    on ``domain_id``), else the domain name is used and a WARNING is logged:
    zero-shot models then read only the name.

    Args:
        path: The file; its suffix picks the reader.
        domains_path: Optional domains JSONL.
        description_language: Description language for ``domains_path``
            records (``None``: each domain's own language).

    Returns:
        The corpus, named after the file stem. Consistency beyond the format
        (every domain has a relevant document) is checked separately by
        :func:`heysh.data.validation.validate_corpus`.

    Raises:
        DataError: on an unknown suffix, an unreadable file, a missing column,
            duplicate (id, domain) rows, an id with two texts or unreadable
            labels; the message names the problem and what to do.
    """
    started = time.perf_counter()
    path = Path(path)
    frame = read_pairs_table(path)
    domain_records = _read_domain_records(domains_path) if domains_path else None
    corpus = corpus_from_pairs_frame(
        frame,
        name=path.stem,
        source=str(path),
        domain_records=domain_records,
        description_language=description_language,
    )
    _logger.info(
        "pairs_file_loaded",
        extra={
            "path": str(path),
            "documents": corpus.n_docs,
            "domains": len(corpus.domains),
            "pairs": corpus.n_pairs,
            "duration_s": round(time.perf_counter() - started, 3),
        },
    )
    return corpus


def read_pairs_table(path: Path) -> pd.DataFrame:
    """Read a pairs file into a DataFrame without guessing column types.

    CSV cells are read as strings (so ids such as ``007`` keep their zeros);
    JSON and Parquet keep their own types.

    Raises:
        DataError: on an unknown suffix or a file that cannot be read.
    """
    # Imported here: pandas takes a second or more to import.
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in PAIRS_FILE_SUFFIXES:
        raise DataError(
            f"cannot read {path}: unknown file type {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(PAIRS_FILE_SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"file not found: {path}; check the path")
    if suffix == ".jsonl":
        return pd.DataFrame.from_records(read_jsonl(path))
    try:
        if suffix == ".json":
            return pd.DataFrame.from_records(_read_json_array(path))
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_parquet(path)
    except DataError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(
            f"cannot read {path} as {suffix[1:].upper()}: {err}; check that the "
            "file is complete and in that format"
        ) from err


def _read_json_array(path: Path) -> list[dict[str, Any]]:
    content = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(content, list) or not all(isinstance(r, dict) for r in content):
        raise DataError(
            f"{path} must hold a JSON array of objects, one per (document, domain) "
            "pair; for one object per line use a .jsonl file"
        )
    return content


def _read_domain_records(path: Path) -> dict[str, dict[str, Any]]:
    records = read_jsonl(Path(path))
    require_keys(records, ("domain_id", "name", "description"), Path(path))
    return {str(record["domain_id"]): record for record in records}
