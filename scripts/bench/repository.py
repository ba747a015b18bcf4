"""Benchmark: the Document Repository through a real `xdsno serve` against the raw floor of its
blob store, measured in the same run on the same S3 server (and the same folder).

Run by hand, not a test:
    python -m scripts.bench.repository [--endpoint 127.0.0.1:PORT] [--rounds 5] [--big-mib 512]
                                       [--no-filesystem]

Starts an s3rver (scripts/ci/s3.sh on port 25451) unless --endpoint names an S3 server
(credentials --access-key/--secret-key, default s3rver's), and one `xdsno serve` (waitress,
registry and repository on SQLite, --profile ihe) with blob_store=s3 on a bucket of its own;
unless --no-filesystem, a second one with blob_store=filesystem. The client is the project's
SoapClient over loopback (one keep-alive connection, MTOM both ways); ITI-43 answers go into a
sink that only counts the bytes, so neither side holds a document whole.

  ITI-43 MB/s, 1 MiB and 64 MiB: retrieve one document  vs  minio get_object of the same object
        (64 KiB reads) / open + read of the same blob file. The timed ITI-43 goes over urllib3,
        the HTTP library under minio, reading the MTOM answer 64 KiB at a time without parsing
        it (checked once beforehand with SoapClient: size and Success), so both sides have the
        same thin client and the figure is the server's;
  ITI-41 MB/s, 1 MiB and 64 MiB: provide and register one document (a new uniqueId each time,
        same bytes)  vs  SHA-1 of the bytes + minio put_object (8 MiB parts, one at a time, as
        the repository uploads) / SHA-1 + write + fsync + rename of a file (as the filesystem
        store does);
  ITI-41 documents/s, 100 KiB: --batch submissions of one document each, one after another
        vs  the same number of raw writes; and (no aim, for insight) vs raw writes each followed
        by an ITI-42 of the same metadata to the node's registry: per document, ITI-41 does
        the metadata work of ITI-42 (decode, profile rules, registry checks, one transaction)
        on top of storing the bytes — once: the co-located registry takes the decoded model
        and, the rules being its own, runs only its registry checks and the transaction;
  peak RSS: the server's VmHWM (/proc/PID/status, reset by writing 5 to /proc/PID/clear_refs,
        else VmRSS sampled every 10 ms) while one --big-mib document (generated on disk,
        streamed from the file, retrieved into the counting sink and its SHA-1 checked) goes
        in with ITI-41 and out with ITI-43: it must grow by less than 64 MiB.

Ours and the floor alternate within each of --rounds rounds (which goes first alternates too),
so load drifting on a shared machine hits both alike; the table gives the median of the rounds
and "srv CPU", the xdsno process's CPU time per operation of ours (wall time on a busy machine
is mostly waiting for a CPU; CPU time is not). The load average and CPU count are printed
before and after.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import urllib3  # noqa: E402

from profiles.ebrim import encode_provide_and_register, encode_submit_objects_request  # noqa: E402
from profiles.errors import Status  # noqa: E402
from profiles.responses import read_registry_response  # noqa: E402
from profiles.vocabulary import RS  # noqa: E402
from repository.actions import PROVIDE_AND_REGISTER, RETRIEVE  # noqa: E402
from repository.store.s3 import DEFAULT_PART_SIZE, S3BlobStore  # noqa: E402
from soap.addressing import request_headers  # noqa: E402
from soap.client import SoapClient  # noqa: E402
from soap.message import write_message  # noqa: E402
from soap.mtom import OutgoingAttachment, include_element, new_content_id  # noqa: E402
from scripts.processes import stop_process  # noqa: E402
from tests.repository import support  # noqa: E402

KiB, MiB = 1024, 1024 * 1024
S3_PORT = 25451
CHUNK = 64 * KiB
GROWTH_LIMIT = 64 * MiB
REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
NODE_ARGS = ("--profile", "ihe", "--patient-domain", support.SAMPLE_DOMAIN,
             "--repository-unique-id", support.REPOSITORY_ID, "--actor", "registry", "--actor", "repository")


# ---------------------------------------------------------------- servers


@contextlib.contextmanager
def s3_endpoint(given: str, folder: Path) -> Iterator[str]:
    if given:
        yield given
        return
    script = str(REPO_ROOT / "scripts/ci/s3.sh")
    started = subprocess.run([script, "start", str(folder), str(S3_PORT)], capture_output=True, text=True)
    if started.returncode != 0:
        sys.exit(f"could not start s3rver on port {S3_PORT}: {started.stderr.strip()}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop", str(folder)], check=False)


@dataclass
class Node:
    kind: str
    url: str
    data_dir: Path
    process: subprocess.Popen
    s3: S3BlobStore | None = None

    @property
    def repository_url(self) -> str:
        return self.url + "/repository"

    def blob_key(self, unique_id: str) -> str:
        with contextlib.closing(sqlite3.connect(self.data_dir / "repository.sqlite3")) as db:
            return db.execute("SELECT blob_key FROM repository_document WHERE document_unique_id = ?",
                              (unique_id,)).fetchone()[0]

    def blob_path(self, unique_id: str) -> Path:
        from repository.store.filesystem import FilesystemBlobStore

        return FilesystemBlobStore(self.data_dir / "blobs").path_of(self.blob_key(unique_id))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def xdsno_node(kind: str, data_dir: Path, s3: S3BlobStore | None, args) -> Iterator[Node]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if s3 is not None:
        env.update({"XDSNO_BLOB_STORE": "s3", "XDSNO_S3_ENDPOINT": s3.url, "XDSNO_S3_BUCKET": s3.bucket,
                    "XDSNO_S3_ACCESS_KEY": args.access_key, "XDSNO_S3_SECRET_KEY": args.secret_key,
                    "XDSNO_S3_REGION": "us-east-1"})
    data_dir.mkdir(parents=True)
    log = open(data_dir.parent / f"{kind}-server.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "xdsno.cli", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--data-dir", str(data_dir), *NODE_ARGS],
                               cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    node = Node(kind, f"http://127.0.0.1:{port}", data_dir, process, s3)
    try:
        wait_until_healthy(node, log.name)
        yield node
    finally:
        stop_process(process)
        log.close()


def wait_until_healthy(node: Node, log_name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            sys.exit(f"xdsno serve exited: {Path(log_name).read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(node.url + "/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    sys.exit("xdsno serve did not answer /health within 60 s")


# ---------------------------------------------------------------- the repository's side


class CountingSink:
    """An MTOM sink that keeps nothing: counts the bytes (and hashes them when asked)."""

    def __init__(self, digest: bool = False):
        self.size = 0
        self.hash = hashlib.sha1() if digest else None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.hash is not None:
            self.hash.update(data)


def pieces(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield view[start:start + CHUNK]


def file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while data := handle.read(MiB):
            yield data


class Repository:
    """ITI-41 and ITI-43 against one node with one keep-alive SoapClient."""

    def __init__(self, node: Node):
        self.node = node
        self.sinks: list[CountingSink] = []
        self.digest = False
        self.client = SoapClient(node.repository_url, timeout=900, sink_factory=self._sink)
        self.registry = SoapClient(node.url + "/registry", timeout=900)
        self.http = urllib3.PoolManager(maxsize=1, timeout=urllib3.Timeout(connect=10, read=900))

    def _sink(self, _cid: str, _type: str) -> CountingSink:
        self.sinks.append(CountingSink(self.digest))
        return self.sinks[-1]

    def prepared(self, size: int, chunks: Callable[[], Iterator[bytes]]):
        """A one-document ITI-41 ready to send (metadata built outside the timing): its uniqueId
        and the call that sends it."""
        built = support.submission(1)
        entry = built.document_entries[0]
        cid = new_content_id()
        body = encode_provide_and_register(built, [(entry.id, include_element(cid))])

        def send() -> None:
            attachment = OutgoingAttachment(cid, "application/octet-stream", chunks(), size)
            reply = self.client.call(PROVIDE_AND_REGISTER, body, attachments=[attachment], mtom=True)
            status, issues = read_registry_response(reply.raise_for_fault().body)
            if status is not Status.SUCCESS:
                raise RuntimeError(f"ITI-41 answered {status}: {issues}")
        return entry.unique_id, send

    def register_only(self, size: int):
        """An ITI-42 of the metadata such an ITI-41 registers (hash, size, repositoryUniqueId
        set), to the node's own registry: the metadata half of ITI-41 without the document."""
        built = support.submission(1, doc=lambda d: d.with_changes(
            hash="da39a3ee5e6b4b0d3255bfef95601890afd80709", size=str(size),
            repository_unique_id=support.REPOSITORY_ID))
        body = encode_submit_objects_request(built)

        def send() -> None:
            reply = self.registry.call(REGISTER, body).raise_for_fault()
            status, issues = read_registry_response(reply.body)
            if status is not Status.SUCCESS:
                raise RuntimeError(f"ITI-42 answered {status}: {issues}")
        return send

    def provide(self, data: bytes) -> str:
        unique_id, send = self.prepared(len(data), lambda: pieces(data))
        send()
        return unique_id

    def raw_retrieve(self, unique_id: str) -> Callable[[], int]:
        """ITI-43 over urllib3, the HTTP library minio uses for the floor: the MTOM answer read
        64 KiB at a time and counted, not parsed (the first run checks it says Success)."""
        request = support.retrieve_request([(support.REPOSITORY_ID, unique_id)])
        out = write_message(request_headers(RETRIEVE, to=self.node.repository_url), request, mtom=True)
        body = b"".join(out.body)
        headers = {"Content-Type": out.content_type}

        def get() -> int:
            response = self.http.request("POST", self.node.repository_url, body=body, headers=headers,
                                         preload_content=False)
            try:
                first = response.read(CHUNK)
                if response.status != 200 or b"ResponseStatusType:Success" not in first:
                    raise RuntimeError(f"ITI-43 answered HTTP {response.status}: {first[:2000]!r}")
                size = len(first)
                while data := response.read(CHUNK):
                    size += len(data)
            finally:
                response.release_conn()
            return size
        return get

    def retrieve(self, unique_id: str) -> CountingSink:
        self.sinks.clear()
        request = support.retrieve_request([(support.REPOSITORY_ID, unique_id)])
        reply = self.client.call(RETRIEVE, request, mtom=True).raise_for_fault()
        status, issues = read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse"))
        if status is not Status.SUCCESS or len(self.sinks) != 1:
            raise RuntimeError(f"ITI-43 answered {status}: {issues}")
        return self.sinks[0]

    def close(self) -> None:
        self.client.close()
        self.registry.close()
        self.http.clear()


# ---------------------------------------------------------------- the floors


def raw_write(node: Node, data: bytes) -> Callable[[], None]:
    """SHA-1 of the bytes and what the store does with them, by hand."""
    if node.s3 is not None:
        client, bucket = node.s3.client, node.s3.bucket

        def put() -> None:
            key = f"raw/{uuid.uuid4().hex}"
            hashlib.sha1(data).hexdigest()
            client.put_object(bucket, key, io.BytesIO(data), len(data), part_size=DEFAULT_PART_SIZE,
                              num_parallel_uploads=1)
        return put
    folder = node.data_dir / "raw"
    folder.mkdir(exist_ok=True)

    def write() -> None:
        digest = hashlib.sha1()
        final = folder / uuid.uuid4().hex
        temp = final.with_suffix(".part")
        with temp.open("wb") as handle:
            for piece in pieces(data):
                digest.update(piece)
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    return write


def raw_read(node: Node, unique_id: str) -> Callable[[], int]:
    """Read the very blob the repository stores for `unique_id`."""
    if node.s3 is not None:
        client, bucket, key = node.s3.client, node.s3.bucket, node.blob_key(unique_id)

        def get() -> int:
            response = client.get_object(bucket, key)
            size = 0
            try:
                while data := response.read(CHUNK):
                    size += len(data)
            finally:
                response.close()
                response.release_conn()
            return size
        return get
    path = node.blob_path(unique_id)

    def read() -> int:
        size = 0
        with path.open("rb") as handle:
            while data := handle.read(CHUNK):
                size += len(data)
        return size
    return read


# ---------------------------------------------------------------- measuring


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    ours: float
    floor: float
    server_cpu: float  # the xdsno process's CPU seconds per run of `ours`


def alternate(rounds: int, pid: int, ours: Callable[[int], None], floor: Callable[[int], None]) -> Timing:
    """Median seconds of `ours(i)` and `floor(i)` over `rounds`, taking turns going first."""
    times: tuple[list[float], list[float]] = ([], [])
    cpu: list[float] = []
    for number in range(rounds):
        order = ((0, ours), (1, floor)) if number % 2 == 0 else ((1, floor), (0, ours))
        for index, run in order:
            cpu_before, started = cpu_seconds(pid), time.perf_counter()
            run(number)
            times[index].append(time.perf_counter() - started)
            if index == 0:
                cpu.append(cpu_seconds(pid) - cpu_before)
    return Timing(statistics.median(times[0]), statistics.median(times[1]), statistics.median(cpu))


@dataclass
class Row:
    store: str
    what: str
    unit: str
    ours: float
    floor: float
    aim: float | None
    cpu_ms: float  # server CPU per operation of ours
    floor_name: str

    @classmethod
    def rate(cls, store: str, what: str, unit: str, amount: float, timing: Timing, aim: float | None,
             floor_name: str, operations: int = 1) -> Row:
        return cls(store, what, unit, amount / timing.ours, amount / timing.floor, aim,
                   timing.server_cpu * 1000 / operations, floor_name)

    HEADER = (f"{'store':<11}{'measure':<20}{'ours':>9}{'floor':>9} {'unit':<7}{'ratio':>6} {'aim':>4}  "
              f"{'':<9}{'srv CPU':>8}  floor")

    def line(self) -> str:
        ratio = self.ours / self.floor
        mark = "" if self.aim is None else "ok" if ratio >= self.aim else "BELOW AIM"
        aim = "" if self.aim is None else f"{self.aim:.1f}"
        return (f"{self.store:<11}{self.what:<20}{self.ours:>9.1f}{self.floor:>9.1f} {self.unit:<7}"
                f"{ratio:>6.2f} {aim:>4}  {mark:<9}{self.cpu_ms:>6.0f}ms  {self.floor_name}")


def bench_node(node: Node, args, rows: list[Row]) -> None:
    repository = Repository(node)
    kind, pid = node.kind, node.process.pid
    put_name = ("SHA-1 + put_object, 8 MiB parts one at a time" if kind == "s3"
                else "SHA-1 + write + fsync + rename")
    get_name = "get_object + read(64 KiB), same object" if kind == "s3" else "open + read(64 KiB), same file"
    try:
        repository.retrieve(repository.provide(b"warm-up" * 1000))
        for size in args.sizes:
            data = os.urandom(size)
            label = f"{size // MiB} MiB"
            # ITI-41: a new submission per run (the uniqueId must be new), the same bytes
            sends = [repository.prepared(size, lambda: pieces(data))[1] for _ in range(args.rounds)]
            floor = raw_write(node, data)
            timing = alternate(args.rounds, pid, lambda i: sends[i](), lambda i: floor())
            rows.append(Row.rate(kind, f"ITI-41 {label}", "MB/s", size / 1e6, timing, 0.6, put_name))
            # ITI-43 of one stored copy, against reading that very object
            unique_id = repository.provide(data)
            check = repository.retrieve(unique_id)
            if check.size != size:
                raise RuntimeError(f"ITI-43 gave {check.size} bytes, not {size}")
            read, retrieve = raw_read(node, unique_id), repository.raw_retrieve(unique_id)
            if retrieve() < size:
                raise RuntimeError("the ITI-43 answer is shorter than the document")
            timing = alternate(args.rounds, pid, lambda i: retrieve(), lambda i: read())
            rows.append(Row.rate(kind, f"ITI-43 {label}", "MB/s", size / 1e6, timing, 0.8, get_name))
        bench_small(repository, node, args, rows, put_name)
    finally:
        repository.close()


def bench_small(repository: Repository, node: Node, args, rows: list[Row], put_name: str) -> None:
    """ITI-41 of --small-kib documents, one per submission, against the raw write; and against
    the raw write plus an ITI-42 of the same metadata (what any ITI-41 must also do)."""
    kind, pid, count = node.kind, node.process.pid, args.batch
    small = os.urandom(args.small_kib * KiB)
    label = f"ITI-41 {args.small_kib} KiB"
    batches = [[repository.prepared(len(small), lambda: pieces(small))[1] for _ in range(count)]
               for _ in range(2 * args.rounds)]
    registers = [[repository.register_only(len(small)) for _ in range(count)] for _ in range(args.rounds)]
    floor = raw_write(node, small)

    def ours(number: int) -> None:
        for send in batches[number]:
            send()

    def raw(_number: int) -> None:
        for _ in range(count):
            floor()

    def raw_and_register(number: int) -> None:
        for register in registers[number]:
            floor()
            register()

    timing = alternate(args.rounds, pid, ours, raw)
    rows.append(Row.rate(kind, label, "docs/s", count, timing, 0.6, put_name, count))
    timing = alternate(args.rounds, pid, lambda i: ours(args.rounds + i), raw_and_register)
    rows.append(Row.rate(kind, label, "docs/s", count, timing, None,
                         f"{put_name}, then ITI-42 of the same metadata", count))


# ---------------------------------------------------------------- peak memory


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class RssSampler:
    """The highest VmRSS of a process, sampled every 10 ms (when VmHWM cannot be reset)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = status_kib(pid, "VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def big_file(folder: Path, mib: int) -> tuple[Path, str]:
    path = folder / f"document-{mib}MiB.bin"
    digest = hashlib.sha1()
    with path.open("wb") as handle:
        for number in range(mib):
            block = hashlib.shake_128(number.to_bytes(4, "big")).digest(MiB)  # incompressible
            digest.update(block)
            handle.write(block)
    return path, digest.hexdigest()


def peak_memory(node: Node, path: Path, sha1: str) -> str:
    repository = Repository(node)
    pid = node.process.pid
    try:
        repository.retrieve(repository.provide(b"warm-up" * 1000))
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            how = "VmHWM after clear_refs"
        except OSError:
            how = "VmRSS sampled every 10 ms"
        before = status_kib(pid, "VmRSS")
        size = path.stat().st_size
        with RssSampler(pid) as sampler:
            unique_id, send = repository.prepared(size, lambda: file_pieces(path))
            started = time.perf_counter()
            send()
            provided = time.perf_counter() - started
            repository.digest = True
            started = time.perf_counter()
            got = repository.retrieve(unique_id)
            retrieved = time.perf_counter() - started
        if (got.size, got.hash.hexdigest()) != (size, sha1):
            raise RuntimeError("the retrieved document differs from the published one")
        peak = status_kib(pid, "VmHWM") if how.startswith("VmHWM") else sampler.peak
        growth = (peak - before) * KiB
        held = "held" if growth < GROWTH_LIMIT else "NOT held"
        return (f"{node.kind:<11}{size // MiB} MiB in ({size / 1e6 / provided:.0f} MB/s) and out "
                f"({size / 1e6 / retrieved:.0f} MB/s), SHA-1 checked: server RSS {before / 1024:.0f} MiB -> "
                f"peak {peak / 1024:.0f} MiB, grew {growth / MiB:.1f} MiB (< 64 MiB: {held}; {how}, "
                f"sampled peak {sampler.peak / 1024:.0f} MiB)")
    finally:
        repository.close()


# ---------------------------------------------------------------- main


def machine() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs"


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    units = {"K": KiB, "M": MiB}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="", help="an S3 server host:port (default: start s3rver)")
    parser.add_argument("--access-key", default="S3RVER")
    parser.add_argument("--secret-key", default="S3RVER")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="1M,64M", help="ITI-41/43 document sizes")
    parser.add_argument("--small-kib", type=int, default=100)
    parser.add_argument("--batch", type=int, default=40, help="100 KiB submissions per round")
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--no-filesystem", action="store_true")
    args = parser.parse_args()
    args.sizes = [parse_size(text) for text in args.sizes.split(",")]
    print(f"before: {machine()}")
    rows: list[Row] = []
    memory: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xdsno-bench-repository-") as work:
        folder = Path(work)
        with s3_endpoint(args.endpoint, folder / "s3") as endpoint:
            s3 = S3BlobStore(endpoint, f"xdsno-bench-{uuid.uuid4().hex[:8]}", args.access_key,
                             args.secret_key, secure=False, region="us-east-1")
            print(f"S3 server: {s3.describe()}")
            with xdsno_node("s3", folder / "node-s3", s3, args) as node:
                bench_node(node, args, rows)
                path, digest = big_file(folder, args.big_mib)
                memory.append(peak_memory(node, path, digest))
            if args.endpoint:  # a server of someone else's: leave it as it was
                from tests.blobstores import remove_bucket

                remove_bucket(s3)
            if not args.no_filesystem:
                with xdsno_node("filesystem", folder / "node-fs", None, args) as node:
                    bench_node(node, args, rows)
                    memory.append(peak_memory(node, path, digest))
    print()
    print(Row.HEADER)
    for row in rows:
        print(row.line())
    print()
    for line in memory:
        print(line)
    print(f"after: {machine()}")


if __name__ == "__main__":
    main()
