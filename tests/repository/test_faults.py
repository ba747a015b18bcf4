"""Faults around ITI-41 at a real `xdsno serve` node over loopback: whatever breaks, a
submission is all or nothing (DESIGN.md §3). Each case ends by listing the blob store — every
file under the blob folder, or every object and every incomplete multipart upload of the
bucket — and querying the registry, to prove that nothing was left behind:

- the registry answers Failure (small and multipart-sized documents);
- the given hash does not match the content (XDSRepositoryMetadataError);
- the client disconnects half-way through an MTOM request (raw socket);
- the S3 server is killed (SIGKILL) while a large document streams into it: the answer is
  Failure with XDSRepositoryError, and once the S3 server is back (restarted on the same data
  folder), the repository removes the upload it could not abort while the server was down.

Nodes run with one process (waitress, which reads a whole request before the app sees it)
and with gunicorn workers, which hand the app the socket stream: there a document part is
already streaming into the store while the client is still sending. S3 nodes use the server
of XDSNO_TEST_S3_ENDPOINT, except the S3-killed case, which starts its own s3rver
(scripts/ci/s3.sh; skipped when Node/npm or s3rver are unavailable).
"""
from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.ebrim import encode_provide_and_register
from profiles.errors import Status
from profiles.responses import read_registry_response
from profiles.vocabulary import AssociationType
from repository.actions import PROVIDE_AND_REGISTER
from soap.addressing import request_headers
from soap.client import SoapClient
from soap.faults import SoapFault
from soap.message import write_message
from soap.mtom import OutgoingAttachment, include_element, new_content_id
from tests.profiles import samples
from tests.server import REPO_ROOT, running_server

from . import support
from .nodes import NODE_ARGS, Node, _s3_env, repository_node
from .test_integration import query_entries

MiB = 1024 * 1024
SERVERS = ("waitress", "gunicorn")
SERVER_ARGS = {"waitress": (), "gunicorn": ("--workers", "2")}
S3_SCRIPT = REPO_ROOT / "scripts/ci/s3.sh"
#: how long a test waits for the server to finish cleaning up after a fault
SETTLE_SECONDS = 30.0


# ---------------------------------------------------------------- what is stored


def leftovers(node: Node) -> set[str]:
    """Every file under the blob folder, or every object and unfinished upload of the bucket."""
    if node.s3_store is None:
        return node.blob_names()
    client, bucket = node.s3_store.client, node.s3_store.bucket
    uploads = client._list_multipart_uploads(bucket).uploads
    return node.blob_names() | {f"upload {upload.object_name} {upload.upload_id}" for upload in uploads}


def settled(node: Node, expected: set[str], seconds: float = SETTLE_SECONDS) -> set[str]:
    """What the store holds once it equals `expected`, or after `seconds` (the server may still
    be finishing a request whose client went away)."""
    deadline = time.monotonic() + seconds
    while (found := leftovers(node)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def assert_not_registered(node: Node, unique_ids) -> None:
    found = query_entries(node)
    assert not set(unique_ids) & set(found), "a document of the failed submission is in the registry"


# ---------------------------------------------------------------- requests


def pseudo_random_chunks(size: int, *, chunk: int = MiB, pause: float = 0.0) -> Iterator[bytes]:
    """`size` bytes, `chunk` at a time, made on the fly (never held whole), `pause` s apart."""
    generator = random.Random(size)
    sent = 0
    while sent < size:
        piece = generator.randbytes(min(chunk, size - sent))
        sent += len(piece)
        yield piece
        if pause:
            time.sleep(pause)


def large_submission(size: int, **changes):
    """A one-document submission whose document is `size` streamed bytes (MTOM body, parts)."""
    built = support.submission(1, **changes)
    entry = built.document_entries[0]
    cid = new_content_id()
    body = encode_provide_and_register(built, [(entry.id, include_element(cid))])
    return built, body, cid


def provide(url: str, body, parts, *, timeout: float = 300):
    with SoapClient(url, timeout=timeout) as client:
        reply = client.call(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=True)
    if reply.fault is not None:
        return reply.fault
    return read_registry_response(reply.body)


def provide_small(node: Node, built=None, **changes):
    built = built or support.submission(**changes)
    body, parts = support.mtom_parts(built, support.contents(built))
    return built, provide(node.repository_url, body, parts)


# ---------------------------------------------------------------- nodes


NODES = [(blobs, server) for blobs in ("filesystem", "s3") for server in SERVERS]


@pytest.fixture(scope="module", params=NODES, ids=[f"{blobs}-{server}" for blobs, server in NODES])
def node(request, tmp_path_factory):
    blobs, server = request.param
    data_dir = tmp_path_factory.mktemp(f"faults-{blobs}-{server}") / "data"
    with repository_node(data_dir, blobs, "sqlite", *SERVER_ARGS[server]) as running:
        running.server_kind = server
        yield running


# ---------------------------------------------------------------- the registry refuses


@pytest.mark.parametrize("size", [20 * 1024, 9 * MiB], ids=["small", "multipart"])
def test_registry_failure_leaves_no_blob(node, size):
    before = leftovers(node)
    replacing = samples.relationship("Rel01", AssociationType.REPLACE, samples.DOCUMENT_1,
                                     samples.EXISTING_DOCUMENT)  # an unknown document: the registry refuses
    built, body, cid = large_submission(
        size, then=lambda s: s.with_changes(associations=s.associations + (replacing,)))
    answer = provide(node.repository_url, body, [
        OutgoingAttachment(cid, "application/octet-stream", pseudo_random_chunks(size), size)])
    status, issues = answer
    assert status is Status.FAILURE
    assert "XDSRegistryMetadataError" in support.codes(issues)  # the registry's own answer, passed on
    assert leftovers(node) == before
    assert_not_registered(node, [built.document_entries[0].unique_id])


# ---------------------------------------------------------------- the hash does not match


@pytest.mark.parametrize("size", [20 * 1024, 9 * MiB], ids=["small", "multipart"])
def test_hash_mismatch_is_repository_metadata_error_and_stores_nothing(node, size):
    before = leftovers(node)
    built, body, cid = large_submission(size, doc=lambda d: d.with_changes(hash="0" * 40))
    status, issues = provide(node.repository_url, body, [
        OutgoingAttachment(cid, "application/octet-stream", pseudo_random_chunks(size), size)])
    assert (status, support.codes(issues)) == (Status.FAILURE, ["XDSRepositoryMetadataError"])
    assert "0" * 40 in issues[0].context  # names the given hash (and the computed one)
    assert leftovers(node) == before
    assert_not_registered(node, [built.document_entries[0].unique_id])


# ---------------------------------------------------------------- the client goes away


def in_progress(node: Node, before: set[str]) -> bool:
    """A document of an unfinished request is being written: a `.part` file or an S3 upload."""
    new = leftovers(node) - before
    return any(name.endswith(".part") or name.startswith("upload ") for name in new)


def test_client_disconnect_mid_stream_leaves_nothing(node):
    before = leftovers(node)
    size = 24 * MiB  # S3: past two 8 MiB parts, so a multipart upload is under way
    built, body, cid = large_submission(size)
    blocks = request_headers(PROVIDE_AND_REGISTER, to=node.repository_url)
    out = write_message(blocks, body, mtom=True, attachments=[
        OutgoingAttachment(cid, "application/octet-stream", pseudo_random_chunks(size), size)])
    host, port = node.server.base_url.removeprefix("http://").split(":")
    head = (f"POST /repository HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {out.content_type}\r\n"
            f"Content-Length: {out.content_length}\r\n\r\n").encode()
    half = out.content_length // 2
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        for piece in out.body:
            piece = piece[:half - sent]
            sock.sendall(piece)
            sent += len(piece)
            if sent >= half:
                break
        if node.server_kind == "gunicorn":  # the app reads as bytes arrive: a blob is being written
            deadline = time.monotonic() + SETTLE_SECONDS
            while not in_progress(node, before) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert in_progress(node, before), "the server did not start writing the document"
        sock.shutdown(socket.SHUT_RDWR)
    out.body.close()
    assert settled(node, before) == before
    assert_not_registered(node, [built.document_entries[0].unique_id])
    # still serving: the next submission goes through and is the only thing added
    built, answer = provide_small(node)
    assert answer == (Status.SUCCESS, [])
    assert len(leftovers(node) - before) == len(built.document_entries)


# ---------------------------------------------------------------- the S3 server dies


class OwnS3Server:
    """An s3rver of this test alone (scripts/ci/s3.sh), which it may kill and restart."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_low_port()
        self.endpoint = ""

    def start(self) -> str:
        try:
            result = subprocess.run([str(S3_SCRIPT), "start", str(self.folder), str(self.port)],
                                    capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip("scripts/ci/s3.sh did not start s3rver within 300 s")
        if result.returncode != 0:
            pytest.skip(f"scripts/ci/s3.sh could not start s3rver: {result.stderr.strip()[-500:]}")
        self.endpoint = result.stdout.strip()
        return self.endpoint

    @property
    def pid(self) -> int:
        return int((self.folder / "pid").read_text())

    def kill(self) -> None:
        """SIGKILL: no goodbye to open connections, no cleanup."""
        pid = self.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        subprocess.run([str(S3_SCRIPT), "stop", str(self.folder)], capture_output=True, timeout=30)

    def parts_written(self, bucket: str) -> list[Path]:
        """Parts of unfinished multipart uploads that s3rver has completely received."""
        return list((self.folder / "data" / bucket).glob("*uploads/*/*.md5"))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def _free_low_port() -> int:
    """A free loopback port below 32768 (the kernel's ephemeral range starts there)."""
    generator = random.Random()
    for _ in range(100):
        port = generator.randint(20000, 32767)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free loopback port below 32768")


@pytest.fixture
def own_s3(tmp_path):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("Node and npm are needed to run s3rver")
    server = OwnS3Server(tmp_path / "s3")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def node_on(own_s3: OwnS3Server, data_dir: Path, server_kind: str) -> Iterator[Node]:
    from repository.store.s3 import S3BlobStore
    from tests.blobstores import new_bucket_name

    settings = {"endpoint": own_s3.endpoint, "access_key": "S3RVER", "secret_key": "S3RVER",
                "region": "us-east-1", "secure": False}
    store = S3BlobStore(bucket=new_bucket_name(), **settings)
    data_dir.mkdir(parents=True)
    with running_server(data_dir, *NODE_ARGS, *SERVER_ARGS[server_kind], env=_s3_env(settings, store.bucket),
                        timeout=60) as server:
        yield Node(server, "s3", store)


@pytest.mark.parametrize("server_kind", SERVERS)
def test_s3_killed_mid_upload_is_repository_error_and_leaves_nothing(own_s3, tmp_path, server_kind):
    size = 96 * MiB  # twelve 8 MiB parts: the kill comes while most are still to be sent
    with node_on(own_s3, tmp_path / "data", server_kind) as node:
        bucket = node.s3_store.bucket
        before = leftovers(node)
        killed = threading.Event()

        def kill_once_a_part_is_in() -> None:
            deadline = time.monotonic() + 120
            while not own_s3.parts_written(bucket) and time.monotonic() < deadline:
                time.sleep(0.005)
            if own_s3.parts_written(bucket):
                own_s3.kill()
                killed.set()

        watcher = threading.Thread(target=kill_once_a_part_is_in, daemon=True)
        watcher.start()
        built, body, cid = large_submission(size)
        # slowly: with gunicorn the kill comes while the client is still sending
        chunks = pseudo_random_chunks(size, pause=0.01)
        answer = provide(node.repository_url, body,
                         [OutgoingAttachment(cid, "application/octet-stream", chunks, size)])
        watcher.join(130)
        assert killed.is_set(), "no part of the upload reached s3rver"

        assert not isinstance(answer, SoapFault), f"expected a RegistryResponse, got a fault: {answer}"
        status, issues = answer
        assert (status, support.codes(issues)) == (Status.FAILURE, ["XDSRepositoryError"])
        assert "document store failed" in issues[0].context and issues[0].location == "Document01"
        assert_not_registered(node, [built.document_entries[0].unique_id])

        own_s3.start()  # same data folder, same port: what was written before the kill is back
        assert settled(node, before) == before
        # and the node works again once the S3 server is back
        built, answer = provide_small(node)
        assert answer == (Status.SUCCESS, [])
        assert len(leftovers(node) - before) == len(built.document_entries)
