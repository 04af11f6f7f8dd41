"""Folder archive specifics: id sanitising and the files it writes."""

from __future__ import annotations

import json
import threading

import pytest

from heysh.errors import DataError
from heysh.stores.archive_folder import FolderArchive


def all_files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("domain_id", "doc_id", "message"),
    [
        ("..", "doc", "domain_id '..' would escape"),
        ("d", "..", "doc_id '..' would escape"),
        ("", "doc", "domain_id must be a non-empty string"),
        ("d", "", "doc_id must be a non-empty string"),
        ("d", "x" * 300, "doc_id is too long for a file name"),
    ],
)
def test_folder_archive_unsafe_id_raises_and_writes_nothing(
    tmp_path, domain_id, doc_id, message
):
    """Check ids that cannot be a safe file name are refused before any write."""
    archive = FolderArchive(tmp_path / "root")

    with pytest.raises(DataError, match=message):
        archive.archive(domain_id, doc_id, b"x", {})
    assert all_files(tmp_path) == []


def test_folder_archive_slashes_in_ids_stay_inside_one_domain_folder(tmp_path):
    """Check ids with slashes and dots are encoded into one level of folders."""
    archive = FolderArchive(tmp_path)

    archive.archive("../d", "../../etc/passwd", b"x", {"k": ""})

    assert all_files(tmp_path) == [
        "%2E.%2Fd/%2E.%2F..%2Fetc%2Fpasswd@2d711642b726b044.body",
        "%2E.%2Fd/%2E.%2F..%2Fetc%2Fpasswd@manifest.json",
    ]
    assert archive.list_ids("../d") == ["../../etc/passwd"]


def test_folder_archive_replacing_removes_the_old_body(tmp_path):
    """Check a re-archive leaves one body file, named by the new content."""
    archive = FolderArchive(tmp_path)
    archive.archive("d", "doc", b"old", {"v": 1})

    archive.archive("d", "doc", b"new", {"v": 2})

    manifest = json.loads((tmp_path / "d" / "doc@manifest.json").read_text())
    assert [p.name for p in (tmp_path / "d").glob("*.body")] == [manifest["body_file"]]
    assert {
        k: manifest[k] for k in ("domain_id", "doc_id", "metadata", "size_bytes")
    } == {"domain_id": "d", "doc_id": "doc", "metadata": {"v": 2}, "size_bytes": 3}


def test_folder_archive_readers_racing_writers_see_whole_versions(tmp_path):
    """Check a reader never gets a body from one version with another's metadata."""
    archive = FolderArchive(tmp_path)
    archive.archive("d", "doc", b"v-1" * 1000, {"v": 1})
    seen, errors, stop = [], [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                body, metadata = archive.retrieve("d", "doc")
            except Exception as err:  # Reported by the assert below.
                errors.append(err)
                return
            seen.append(body == f"v{-metadata['v']}".encode() * 1000)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for version in range(2, 60):
        archive.archive("d", "doc", f"v-{version}".encode() * 1000, {"v": version})
    stop.set()
    for reader in readers:
        reader.join(timeout=30)

    assert errors == []
    assert len(seen) > 10
    assert all(seen)
