"""Read JSON Lines files with errors that name the file, line and fix.

Private to ``heysh.data``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from heysh.errors import DataError


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the objects of a JSON Lines file, one per non-blank line.

    Raises:
        DataError: if the file cannot be read, is not UTF-8, or a line is not
            a JSON object.
    """
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}; check the path") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} is not UTF-8 (byte {err.start}); re-save it as UTF-8 JSON Lines"
        ) from err
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}; check the path") from err

    records = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"{path}, line {number}: not valid JSON ({err.msg}); each line "
                "must hold one JSON object"
            ) from err
        if not isinstance(record, dict):
            raise DataError(
                f"{path}, line {number}: expected a JSON object, got "
                f"{type(record).__name__}; each line must hold one JSON object"
            )
        records.append(record)
    return records


def require_keys(
    records: list[dict[str, Any]], keys: tuple[str, ...], path: Path
) -> None:
    """Raise a DataError naming the first record that lacks one of ``keys``."""
    for number, record in enumerate(records, start=1):
        missing = [key for key in keys if key not in record]
        if missing:
            raise DataError(
                f"{path}, record {number}: missing key(s) {', '.join(missing)}; "
                f"found {', '.join(sorted(record)) or 'no keys'}; every record "
                f"needs {', '.join(keys)}"
            )
