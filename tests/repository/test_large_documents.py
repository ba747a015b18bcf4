"""A 64 MiB document through a real server (ITI-41 in, ITI-43 out) on each storage combination,
with `xdsno publish` / `xdsno retrieve` as the client: byte-identical, and neither the server
nor the command ever holds the document (DESIGN.md §3: MTOM parts stream into and out of the
blob store). The server's peak resident memory (/proc/<pid>/status VmHWM, reset after a
warm-up) must grow by well under the document's size; a server that buffered the document
(or its base64) would grow by at least 64 MiB."""
from __future__ import annotations

import hashlib

import pytest

from tests.profiles import samples

from .nodes import BACKEND_IDS, BACKENDS, cli, file_sha1, max_rss_kib, repository_node, reset_peak, status_kib
from .support import REPOSITORY_ID

MiB = 1024 * 1024
DOCUMENT_SIZE = 64 * MiB
#: the most the server's (and the command's) peak memory may grow while moving the document;
#: S3 uploads hold one 8 MiB part (plus the client library's copy of it)
GROWTH_LIMIT = 24 * MiB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "large-document.bin"
    with path.open("wb") as handle:
        for number in range(DOCUMENT_SIZE // MiB):
            handle.write(hashlib.shake_128(number.to_bytes(4, "big")).digest(MiB))  # incompressible
    return path


def publish(node, *files):
    result = cli("publish", *map(str, files), "--patient", samples.PATIENT_ID, "--repository", node.repository_url,
                 "--profile", "ihe", "--mime-type", "application/octet-stream", "--progress", "never")
    assert result.returncode == 0, result.stderr
    return result


def retrieve(node, unique_id, out):
    result = cli("retrieve", unique_id, "--out", str(out), "--repository", node.repository_url,
                 "--repository-unique-id", REPOSITORY_ID, "--progress", "never")
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_large_document_round_trip_in_bounded_memory(backend, big_file, tmp_path):
    with repository_node(tmp_path / "data", *backend) as node:
        small = tmp_path / "warm-up.txt"
        small.write_bytes(b"warm-up\n" * 1000)
        warm_publish = publish(node, small)
        warm_retrieve = retrieve(node, unique_id_of(warm_publish), tmp_path / "warm-up.out")
        before = status_kib(node.pid, "VmRSS" if reset_peak(node.pid) else "VmHWM") * 1024

        published = publish(node, big_file)
        out = tmp_path / "large-document.out"
        retrieved = retrieve(node, unique_id_of(published), out)
        peak = status_kib(node.pid, "VmHWM") * 1024

    digest = file_sha1(big_file)
    assert out.stat().st_size == DOCUMENT_SIZE and file_sha1(out) == digest
    assert f"sha1 {digest}" in published.stdout and f"{DOCUMENT_SIZE} bytes, sha1 {digest}" in retrieved.stdout
    assert peak - before < GROWTH_LIMIT, f"server peak memory grew by {(peak - before) / MiB:.1f} MiB"
    for command, warm in ((published, warm_publish), (retrieved, warm_retrieve)):
        growth = (max_rss_kib(command.stderr) - max_rss_kib(warm.stderr)) * 1024
        assert growth < GROWTH_LIMIT, f"the command's peak memory grew by {growth / MiB:.1f} MiB"


def unique_id_of(published) -> str:
    return published.stdout.splitlines()[-1].split()[0]
