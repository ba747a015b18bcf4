"""What only the S3 store has: multipart abort, configuration errors with clear messages, the
minio private methods it relies on. Tests needing a server skip without XDSNO_TEST_S3_ENDPOINT."""
from __future__ import annotations

import inspect
import logging
import os
import time

import pytest
import urllib3
from minio import Minio
from minio.error import S3Error

from repository.store import BlobStoreError, open_blob_store
from repository.store.s3 import MIN_PART_SIZE, S3BlobStore
from repository.store.s3_client import S3Errors, split_endpoint
from tests.blobstores import ENV, fresh_blob_store, new_bucket_name, remove_bucket, s3_settings

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3():
    with fresh_blob_store("s3") as store:
        yield store


@pytest.fixture
def settings():
    found = s3_settings()
    if found is None:
        pytest.skip(f"{ENV} is not set")
    return found


def open_uploads(store, key: str) -> list[str]:
    return [u.upload_id for u in store.client._list_multipart_uploads(store.bucket, prefix=key).uploads]


def s3_error(code: str) -> S3Error:
    return S3Error(response=None, code=code, message=f"{code} message", resource="/b",
                   request_id=None, host_id=None)


# ---------------------------------------------------------------- without a server


@pytest.mark.parametrize("name, leading", [
    ("_create_multipart_upload", ["bucket_name", "object_name", "headers"]),
    ("_upload_part", ["bucket_name", "object_name", "data", "headers", "upload_id", "part_number"]),
    ("_complete_multipart_upload", ["bucket_name", "object_name", "upload_id", "parts"]),
    ("_abort_multipart_upload", ["bucket_name", "object_name", "upload_id"]),
])
def test_minio_private_multipart_methods_are_as_the_writer_calls_them(name, leading):
    parameters = list(inspect.signature(getattr(Minio, name)).parameters)[1:]
    assert parameters[:len(leading)] == leading, "minio changed: see the pin in pyproject.toml"


def test_unreachable_endpoint_is_a_clear_blob_store_error():
    started = time.monotonic()
    with pytest.raises(BlobStoreError, match=r"S3 server http://127\.0\.0\.1:1 unreachable"):
        S3BlobStore("127.0.0.1:1", "xdsno-test", "key", "secret", secure=False)
    assert time.monotonic() - started < 15


def test_settings_are_checked_before_connecting():
    with pytest.raises(ValueError, match="part_size"):
        S3BlobStore("127.0.0.1:1", "b", "k", "s", part_size=MIN_PART_SIZE - 1)
    with pytest.raises(BlobStoreError, match="no S3 endpoint"):
        S3BlobStore("", "b", "k", "s")
    with pytest.raises(BlobStoreError, match="s3_endpoint"):
        open_blob_store("s3", bucket="b")
    with pytest.raises(BlobStoreError, match="invalid S3 settings"):
        S3BlobStore("host:port:junk/x", "bucket", "k", "s")


def test_endpoint_scheme_overrides_secure():
    assert split_endpoint("https://s3.example:9000/", False) == ("s3.example:9000", True)
    assert split_endpoint("HTTP://127.0.0.1:24568", True) == ("127.0.0.1:24568", False)
    assert split_endpoint("s3.example:9000", True) == ("s3.example:9000", True)


@pytest.mark.parametrize("code, message", [
    ("AccessDenied", "denied PutObject (AccessDenied"),
    ("InvalidAccessKeyId", "rejected the credentials"),
    ("SignatureDoesNotMatch", "check s3_access_key and s3_secret_key"),
    ("NoSuchBucket", "does not exist"),
    ("SlowDown", "PutObject of bucket/key at http://h:1 failed: SlowDown"),
])
def test_s3_error_codes_become_operator_messages(code, message):
    error = S3Errors("http://h:1", "bucket").from_s3_error(s3_error(code), "PutObject", "key")
    assert isinstance(error, BlobStoreError) and message in str(error)
    assert "bucket" in str(error)


# ---------------------------------------------------------------- against the server


def test_bad_credentials_are_a_clear_blob_store_error(settings):
    settings.update(access_key="nobody", secret_key="wrong")
    with pytest.raises(BlobStoreError, match="check s3_access_key and s3_secret_key"):
        S3BlobStore(bucket=new_bucket_name(), **settings)


def test_tls_against_a_plain_http_server_says_so(settings):
    if settings["secure"]:
        pytest.skip("the test server speaks TLS")
    settings.update(secure=True)
    with pytest.raises(BlobStoreError, match="TLS failed: is s3_secure right"):
        S3BlobStore(bucket=new_bucket_name(), **settings)


def test_invalid_bucket_name_is_a_blob_store_error(settings):
    with pytest.raises(BlobStoreError, match="invalid s3_bucket"):
        S3BlobStore(bucket="No_Such..Bucket", **settings)


def test_missing_bucket_is_created_and_an_existing_one_reused(settings):
    name = new_bucket_name()
    first = open_blob_store("s3", bucket=name, **settings)
    try:
        assert first.client.bucket_exists(name)
        writer = first.writer()
        writer.write(b"x")
        writer.close_part()
        again = open_blob_store("s3", bucket=name, **settings)
        assert again.exists(writer.key) and again.describe().endswith(f"/{name}")
    finally:
        remove_bucket(first)


def test_endpoint_given_as_url(settings):
    scheme = "https" if settings["secure"] else "http"
    settings["endpoint"] = f"{scheme}://{settings['endpoint']}"
    store = S3BlobStore(bucket=new_bucket_name(), **{**settings, "secure": not settings["secure"]})
    try:
        assert store.url == settings["endpoint"]
    finally:
        remove_bucket(store)


@pytest.mark.parametrize("size, multipart", [(8 * MiB - 1, False), (8 * MiB, False), (8 * MiB + 1, True)])
def test_a_blob_up_to_one_part_goes_up_in_one_put_object(s3, monkeypatch, size, multipart):
    started = []
    create = s3.client._create_multipart_upload
    monkeypatch.setattr(s3.client, "_create_multipart_upload",
                        lambda *args: started.append(args) or create(*args))
    writer = s3.writer()
    for _ in range(size // MiB):
        writer.write(bytes(MiB))
    writer.write(bytes(size % MiB))
    writer.close_part()
    with s3.open(writer.key) as reader:
        assert bool(started) is multipart and reader.size == size
    s3.delete(writer.key)


def test_discard_mid_upload_aborts_the_multipart_upload(s3):
    writer = s3.writer()
    for _ in range(20):
        writer.write(os.urandom(MiB))
    assert len(writer._parts) == 2
    assert open_uploads(s3, writer.key) == [writer._upload_id]
    writer.discard()
    assert open_uploads(s3, writer.key) == []
    assert not s3.exists(writer.key)


def test_failed_completion_aborts_and_raises(s3, monkeypatch):
    def refuse(*args, **kwargs):
        raise s3_error("InternalError")

    monkeypatch.setattr(s3.client, "_complete_multipart_upload", refuse)
    writer = s3.writer()
    writer.write(os.urandom(s3.part_size + 1))
    with pytest.raises(BlobStoreError, match="CompleteMultipartUpload"):
        writer.close_part()
    assert open_uploads(s3, writer.key) == [] and not s3.exists(writer.key)


def test_discard_logs_rather_than_raises_when_abort_fails(s3, monkeypatch, caplog):
    writer = s3.writer()
    writer.write(os.urandom(s3.part_size + 1))
    upload_id = writer._upload_id
    abort = s3.client._abort_multipart_upload

    def refuse(*args, **kwargs):
        raise s3_error("MethodNotAllowed")

    monkeypatch.setattr(s3.client, "_abort_multipart_upload", refuse)
    with caplog.at_level(logging.WARNING, logger="repository.store.base"):
        writer.discard()
    assert "could not discard blob" in caplog.text and "MethodNotAllowed" in caplog.text
    abort(s3.bucket, writer.key, upload_id)


def wait_until_nothing_pending(store, seconds: float = 20) -> list[str]:
    deadline = time.monotonic() + seconds
    while store.janitor.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    return store.janitor.pending()


def test_an_abort_that_failed_is_retried_until_the_upload_is_gone(s3, monkeypatch):
    """The server was unreachable when the upload was to be aborted: the janitor aborts it later."""
    writer = s3.writer()
    writer.write(os.urandom(s3.part_size + 1))
    upload_id = writer._upload_id
    abort = s3.client._abort_multipart_upload
    calls = []

    def unreachable_once(bucket, key, upload, *args, **kwargs):
        if key == writer.key:  # (an earlier test's retries come through here too)
            calls.append(key)
        if calls == [key]:
            raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
        return abort(bucket, key, upload, *args, **kwargs)

    monkeypatch.setattr(s3.client, "_abort_multipart_upload", unreachable_once)
    writer.discard()
    assert open_uploads(s3, writer.key) == [upload_id]  # left for now, not forgotten
    assert wait_until_nothing_pending(s3) == []
    assert calls == [writer.key] * 2 and open_uploads(s3, writer.key) == []


@pytest.mark.parametrize("size", [1000, 8 * MiB + 1], ids=["put_object", "multipart"])
def test_an_object_stored_whose_answer_was_lost_is_deleted(s3, monkeypatch, size):
    """PutObject / CompleteMultipartUpload reached the server, the answer did not come back:
    the writer fails, and the object the server did store is deleted, not orphaned."""
    name = "put_object" if size < s3.part_size else "_complete_multipart_upload"
    send = getattr(s3.client, name)

    def answer_lost(*args, **kwargs):
        send(*args, **kwargs)
        raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())

    monkeypatch.setattr(s3.client, name, answer_lost)
    writer = s3.writer()
    writer.write(os.urandom(size))
    with pytest.raises(BlobStoreError, match="Connection aborted"):
        writer.close_part()
    assert not s3.exists(writer.key) and open_uploads(s3, writer.key) == []


def test_a_reader_abandoned_mid_way_releases_its_connection(s3):
    writer = s3.writer()
    writer.write(os.urandom(3 * MiB))
    writer.close_part()
    for _ in range(40):  # more than the connection pool holds
        reader = s3.open(writer.key)
        assert len(reader.read(1000)) == 1000
        reader.close()
    with s3.open(writer.key) as reader:
        assert sum(map(len, reader)) == 3 * MiB
