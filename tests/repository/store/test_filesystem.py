"""The filesystem store's layout and atomicity, and the factory."""
from __future__ import annotations

import os

import pytest

from repository.store import BlobStoreError, open_blob_store
from repository.store.filesystem import FilesystemBlobStore
from repository.store.memory import MemoryBlobStore
from repository.store.s3 import S3BlobStore
from tests.blobstores import new_bucket_name, remove_bucket, s3_settings


def test_layout_fans_out_by_the_first_two_characters(tmp_path):
    store = FilesystemBlobStore(tmp_path)
    assert store.path_of("abcdef") == tmp_path / "ab" / "abcdef.blob"
    assert store.path_of("2024/05/abcdef") == tmp_path / "2024" / "05" / "ab" / "abcdef.blob"
    assert store.path_of("a") == tmp_path / "a" / "a.blob"


def test_a_blob_appears_only_when_complete(tmp_path):
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"half")
    final = store.path_of(writer.key)
    assert not final.exists()
    assert [p.suffix for p in final.parent.iterdir()] == [".part"]
    writer.close_part()
    assert final.read_bytes() == b"half"
    assert [p.name for p in final.parent.iterdir()] == [final.name]


def test_discard_removes_the_part_file(tmp_path):
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"dropped")
    writer.discard()
    assert list(store.path_of(writer.key).parent.iterdir()) == []


def test_unusable_root_is_a_blob_store_error(tmp_path):
    occupied = tmp_path / "file"
    occupied.write_bytes(b"")
    with pytest.raises(BlobStoreError, match="cannot create blob folder"):
        FilesystemBlobStore(occupied / "blobs")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(BlobStoreError, match="not writable"):
            FilesystemBlobStore(locked)


def test_factory_builds_each_kind(tmp_path):
    store = open_blob_store("filesystem", root=tmp_path / "blobs")
    assert isinstance(store, FilesystemBlobStore) and store.describe() == f"filesystem {tmp_path / 'blobs'}"
    assert isinstance(open_blob_store("memory"), MemoryBlobStore)
    with pytest.raises(BlobStoreError, match="needs a folder"):
        open_blob_store("filesystem")
    with pytest.raises(BlobStoreError, match="unknown blob store 'ftp'"):
        open_blob_store("ftp")
    settings = s3_settings()
    if settings:
        s3 = open_blob_store("s3", bucket=new_bucket_name(), **settings)
        assert isinstance(s3, S3BlobStore)
        remove_bucket(s3)


def test_a_failed_completion_leaves_no_blob(tmp_path, monkeypatch):
    def broken_disk(folder):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("repository.store.filesystem._fsync_folder", broken_disk)
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"lost")
    with pytest.raises(BlobStoreError, match="cannot store blob .*Input/output error"):
        writer.close_part()
    assert not store.exists(writer.key) and writer.sha1 is None
    assert list(store.path_of(writer.key).parent.iterdir()) == []
