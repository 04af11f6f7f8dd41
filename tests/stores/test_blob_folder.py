"""Folder blob store specifics: key sanitising and the files it writes."""

from __future__ import annotations

import pytest

from heysh.errors import DataError
from heysh.stores.blob_folder import FolderBlobStore


def all_files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("../escape", "'..' would escape the store folder"),
        ("a/../../escape", "'..' would escape the store folder"),
        ("./x", "'.' would escape the store folder"),
        ("/etc/passwd", "has an empty part"),
        ("a//b", "has an empty part"),
        ("a/", "has an empty part"),
        ("", "must be a non-empty string"),
    ],
)
def test_folder_blob_store_traversal_key_raises_and_writes_nothing(
    tmp_path, key, message
):
    """Check keys that could leave the root are refused before anything is written."""
    blobs = FolderBlobStore(tmp_path / "root")

    with pytest.raises(DataError, match=message):
        blobs.put(key, b"payload")
    assert all_files(tmp_path) == []


@pytest.mark.parametrize(
    "key", ["..\\..\\escape", "%2E%2E/x", "a\x00b", ".hidden", "~/x"]
)
def test_folder_blob_store_odd_key_stays_inside_root(tmp_path, key):
    """Check backslashes, escapes, NUL, dots and tildes become plain names inside."""
    blobs = FolderBlobStore(tmp_path / "root")

    blobs.put(key, b"payload")

    assert blobs.get(key) == b"payload"
    files = all_files(tmp_path)
    assert len(files) == 2
    assert all(
        f.startswith("root/") and not f.split("/")[-1].startswith(".") for f in files
    )


def test_folder_blob_store_writes_body_and_json_manifest(tmp_path):
    """Check a put leaves a content-named body and a manifest with hash and size."""
    blobs = FolderBlobStore(tmp_path)

    blobs.put("d/doc 1", b"abc")
    blobs.put("d/doc 1", b"abcd")

    assert all_files(tmp_path) == [
        "d/doc%201@88d4266fd4e6338d.body",
        "d/doc%201@manifest.json",
    ]
    manifest = (tmp_path / "d" / "doc%201@manifest.json").read_text()
    assert '"size_bytes": 4' in manifest
    assert (
        '"sha256": "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"'
        in (manifest)
    )


def test_folder_blob_store_altered_body_raises(tmp_path):
    """Check a body changed behind the store's back is detected on read."""
    blobs = FolderBlobStore(tmp_path)
    blobs.put("k", b"original")
    body = next(tmp_path.glob("k@*.body"))
    body.write_bytes(b"tampered")

    with pytest.raises(DataError, match="does not match its recorded SHA-256"):
        blobs.get("k")
