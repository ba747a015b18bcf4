"""Blob store in an S3 bucket through the minio client (AWS S3, MinIO, Ceph RGW, s3rver…).

S3 API operations used: HeadBucket, CreateBucket (once, when the bucket is missing),
PutObject (blobs smaller than `part_size`), CreateMultipartUpload / UploadPart /
CompleteMultipartUpload / AbortMultipartUpload (larger blobs), GetObject, HeadObject,
DeleteObject.

A writer keeps at most one part (`part_size`, default 8 MiB) in memory: each part is uploaded as
soon as it is full and more bytes arrive. minio has no public streaming multipart API (its
put_object pulls from a stream, we are pushed chunks by the MTOM parser), so the writer calls
minio's multipart methods `_create_multipart_upload`, `_upload_part`,
`_complete_multipart_upload` and `_abort_multipart_upload`; pyproject.toml pins minio to the
7.2 series for that, and tests/repository/store checks their signatures.

An upload abandoned by a killed process stays as an incomplete multipart upload: give the
bucket an AbortIncompleteMultipartUpload lifecycle rule (e.g. 1 day) in production.
"""
from __future__ import annotations

import io
import logging

import urllib3
from minio.datatypes import Part
from minio.error import S3Error

from repository.store.base import BlobStoreError, ReaderBase, WriterBase, check_key, new_key
from repository.store.janitor import Janitor
from repository.store.s3_client import S3Errors, make_client, split_endpoint

__all__ = ["S3BlobStore", "MIN_PART_SIZE", "DEFAULT_PART_SIZE"]

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
CONTENT_TYPE = "application/octet-stream"


class S3BlobStore:
    """Blobs as objects in `bucket` (created when missing) on the S3 server at `endpoint`
    ('host:port'; an 'http://' or 'https://' prefix overrides `secure`)."""

    def __init__(self, endpoint: str, bucket: str, access_key: str | None, secret_key: str | None,
                 *, secure: bool = True, region: str | None = None,
                 part_size: int = DEFAULT_PART_SIZE):
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        if not endpoint:
            raise BlobStoreError("no S3 endpoint configured (s3_endpoint, 'host:port')")
        host, secure = split_endpoint(endpoint, secure)
        self.bucket = bucket
        self.part_size = part_size
        self.url = f"{'https' if secure else 'http'}://{host}"
        self.client = make_client(host, access_key, secret_key, secure=secure, region=region)
        self.errors = S3Errors(self.url, bucket)
        #: retries removals that failed while the server was unreachable (repository.store.janitor)
        self.janitor = Janitor(f"s3 {self.url}/{bucket}")
        self._ensure_bucket(region)

    def _ensure_bucket(self, region: str | None) -> None:
        with self.errors("HeadBucket/CreateBucket"):
            try:
                if self.client.bucket_exists(self.bucket):
                    return
                self.client.make_bucket(self.bucket, location=region or None)
                log.info("created bucket %s at %s", self.bucket, self.url)
            except ValueError as exc:  # minio's own check of the bucket name
                raise BlobStoreError(f"invalid s3_bucket {self.bucket!r}: {exc}") from None
            except Exception as exc:
                if getattr(exc, "code", None) != "BucketAlreadyOwnedByYou":  # a racing process
                    raise

    def writer(self, prefix: str = "") -> _S3Writer:
        return _S3Writer(self, new_key(prefix))

    def open(self, key: str) -> _S3Reader:
        with self.errors("GetObject", check_key(key)):
            response = self.client.get_object(self.bucket, key)
        return _S3Reader(key, response, self.errors)

    def delete(self, key: str) -> None:
        with self.errors("DeleteObject", check_key(key)):
            self.client.remove_object(self.bucket, key)

    def exists(self, key: str) -> bool:
        try:
            with self.errors("HeadObject", check_key(key)):
                self.client.stat_object(self.bucket, key)
        except LookupError:
            return False
        return True

    def describe(self) -> str:
        return f"s3 {self.url}/{self.bucket}"

    def __repr__(self) -> str:
        return f"S3BlobStore({self.url!r}, {self.bucket!r})"


class _S3Writer(WriterBase):
    """PutObject for a blob smaller than a part, else a multipart upload part by part."""

    def __init__(self, store: S3BlobStore, key: str):
        super().__init__(store, key)
        self._client = store.client
        self._errors = store.errors
        self._part_size = store.part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[Part] = []
        self._object_sent = False  # a PutObject / CompleteMultipartUpload went out

    def _write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            if len(self._buffer) >= self._part_size:  # full, and more is coming: send it
                self._send_part()
            take = self._part_size - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]

    def _send_part(self) -> None:
        bucket = self._store.bucket
        with self._errors("UploadPart", self.key):
            if self._upload_id is None:
                self._upload_id = self._client._create_multipart_upload(
                    bucket, self.key, {"Content-Type": CONTENT_TYPE})
            number = len(self._parts) + 1
            etag = self._client._upload_part(
                bucket, self.key, self._buffer, None, self._upload_id, number)
        self._parts.append(Part(number, etag))
        self._buffer = bytearray()

    def _complete(self) -> None:
        if self._upload_id is None:
            data, self._buffer = bytes(self._buffer), bytearray()
            self._object_sent = True
            with self._errors("PutObject", self.key):
                # part_size: minio would otherwise split anything above 5 MiB into parts.
                self._client.put_object(self._store.bucket, self.key, io.BytesIO(data), len(data),
                                        content_type=CONTENT_TYPE, part_size=self._part_size)
            return
        if self._buffer:
            self._send_part()
        self._object_sent = True
        with self._errors("CompleteMultipartUpload", self.key):
            self._client._complete_multipart_upload(
                self._store.bucket, self.key, self._upload_id, self._parts)
        self._upload_id = None

    def _abort(self) -> None:
        """Abort the upload and, if a PutObject or CompleteMultipartUpload was sent, delete the
        object: its answer may have been lost after the server stored it. Repeatable."""
        self._buffer = bytearray()
        if self._upload_id is not None:
            with self._errors("AbortMultipartUpload", self.key):
                try:
                    self._client._abort_multipart_upload(self._store.bucket, self.key, self._upload_id)
                except S3Error as exc:
                    if exc.code != "NoSuchUpload":  # an earlier attempt did it, its answer lost
                        raise
            self._upload_id = None
        if self._object_sent:
            self._store.delete(self.key)
            self._object_sent = False


class _S3Reader(ReaderBase):
    """Streams a GetObject response; closing it releases the connection."""

    def __init__(self, key: str, response: urllib3.BaseHTTPResponse, errors: S3Errors):
        size = response.headers.get("Content-Length")
        super().__init__(key, int(size) if size is not None else -1)
        self._response = response
        self._errors = errors

    def _read(self, size: int) -> bytes:
        with self._errors("GetObject (reading)", self.key):
            return self._response.read(size)

    def _release(self) -> None:
        self._response.close()
        self._response.release_conn()
