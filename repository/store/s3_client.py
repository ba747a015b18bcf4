"""The minio client the S3 blob store uses, and the translation of what minio and urllib3
raise into BlobNotFound / BlobStoreError messages an operator can act on.

Bounded connect timeout and retries (minio's own defaults wait five minutes on an endpoint that
drops packets); TLS from `secure`, CA bundle from SSL_CERT_FILE or certifi.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from urllib3.util import Retry, Timeout

from repository.store.base import BlobNotFound, BlobStoreError

__all__ = ["make_client", "split_endpoint", "S3Errors"]

CONNECT_TIMEOUT = 10.0
# Per socket read, not per request: a large part may take long, but a silent server may not.
READ_TIMEOUT = 300.0
POOL_SIZE = 16
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
_PERMISSION_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """'host:port' as given; 'http://host:port' / 'https://…' set `secure` from the scheme."""
    endpoint = endpoint.strip().rstrip("/")
    for scheme, is_secure in (("https://", True), ("http://", False)):
        if endpoint.lower().startswith(scheme):
            return endpoint[len(scheme):], is_secure
    return endpoint, secure


def make_client(endpoint: str, access_key: str | None, secret_key: str | None, *,
                secure: bool, region: str | None) -> Minio:
    http = urllib3.PoolManager(
        timeout=Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        maxsize=POOL_SIZE,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    try:
        return Minio(endpoint, access_key=access_key or None, secret_key=secret_key or None,
                     secure=secure, region=region or None, http_client=http)
    except ValueError as exc:
        raise BlobStoreError(f"invalid S3 settings (s3_endpoint {endpoint!r}): {exc}") from None


class S3Errors:
    """`with errors("PutObject", key):` turns minio/urllib3 failures into our errors."""

    def __init__(self, url: str, bucket: str):
        self.url = url
        self.bucket = bucket

    @contextlib.contextmanager
    def __call__(self, operation: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except S3Error as exc:
            raise self.from_s3_error(exc, operation, key) from exc
        except (InvalidResponseError, ServerError) as exc:
            raise BlobStoreError(
                f"{self.url} did not answer {operation} like an S3 server: {exc}") from exc
        except MinioException as exc:
            raise BlobStoreError(f"S3 {operation} at {self.url} failed: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise BlobStoreError(self.connection_message(operation, exc)) from exc

    def from_s3_error(self, exc: S3Error, operation: str, key: str | None) -> Exception:
        code = exc.code or "error"
        if code == "NoSuchKey" and key is not None:
            return BlobNotFound(key)
        where = f"bucket {self.bucket!r} at {self.url}"
        if code == "NoSuchBucket":
            return BlobStoreError(f"{where} does not exist ({operation})")
        if code in _CREDENTIAL_CODES:
            return BlobStoreError(
                f"{where} rejected the credentials ({operation}: {code}); check s3_access_key "
                f"and s3_secret_key")
        if code in _PERMISSION_CODES:
            # A HEAD answer has no body: bad credentials then also read as AccessDenied.
            return BlobStoreError(
                f"{where} denied {operation} ({code}: {exc.message}); check s3_access_key and "
                f"s3_secret_key, and that the key may list and create the bucket and put, get "
                f"and delete its objects")
        target = f"{self.bucket}/{key}" if key else self.bucket
        return BlobStoreError(f"S3 {operation} of {target} at {self.url} failed: {code}: {exc.message}")

    def connection_message(self, operation: str, exc: Exception) -> str:
        reason = getattr(exc, "reason", None) or exc
        text = f"S3 server {self.url} unreachable ({operation}): {_short(reason)}"
        if isinstance(reason, urllib3.exceptions.SSLError):
            text += "; TLS failed: is s3_secure right for this endpoint, and its certificate trusted?"
        return text


def _short(reason: object) -> str:
    """urllib3 reasons repeat the connection object's repr; keep the part after it."""
    text = str(reason)
    return text.split(">: ", 1)[-1] if ">: " in text else text
