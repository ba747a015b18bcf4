"""Benchmark: the Document Registry against bare SQL and a bare HTTP endpoint, per database.

Run by hand, not a test:
    python scripts/bench/registry.py --db sqlite|postgresql|both [--entries 1000000] [--seconds 10]
        [--parts iti42,query,iti18] [--work-dir DIR [--reuse]]

In one run per database (SQLite files in a temporary folder; PostgreSQL on --postgresql-url,
else a throwaway cluster started with scripts/ci/postgres.sh on port 25450 and stopped at the
end), on three fresh databases: `write` for ITI-42, `small` holding 10,000 DocumentEntries and
`big` holding --entries:

1. ITI-42 registrations/s with 1 and with 100 DocumentEntries per submission: through
   RegistryService.register in-process and through a real `xdsno serve` over loopback (one
   keep-alive httpx client), against the floor: SQLAlchemy Core executemany of the same rows
   (what store_submission writes for such a submission, one executemany per table) into the same
   tables, one transaction per submission. Every submission is built before it is timed; only
   the call is timed. The three are measured in alternating slices (--rounds).
2. FindDocuments (LeafClass, one patient's 20 DocumentEntries; 20 such patients spread through
   the data, asked in turn) p50/p95, in-process: RegistryService.query_answer and writing the
   answer as the endpoint does (the stored XML spliced in, soap.splice). `small` and `big` are
   asked in alternating slices; their ratio is the cost of size.
   Both are filled by the bulk loader (BulkLoader: copies of one registered 20-document
   submission, a new patient each, canonical XML produced once with ids substituted), in
   transactions of 1,000 DocumentEntries; `big` stops early when --load-minutes have passed.
3. ITI-18 requests/s (that FindDocuments for one patient) through `xdsno serve` over loopback
   (waitress, one keep-alive httpx client) on `small` and on `big`, against a bare waitress WSGI
   app in a process of its own returning the same response bytes; alternating slices.

The samples are IHE-coded, so the registry runs `--profile ihe`. The load average is printed
before and after each part; the EXPLAIN of the FindDocuments SELECT on `big` at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
# This folder holds soap.py: keep it off sys.path so `import soap` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from lxml import etree  # noqa: E402
from sqlalchemy import Engine, create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from profiles.catalog import load_profile  # noqa: E402
from profiles.ebrim import canonical_bytes, decode_submit_objects_request  # noqa: E402
from profiles.ebrim import encode_submit_objects_request  # noqa: E402
from profiles.model import Submission  # noqa: E402
from profiles.vocabulary import (  # noqa: E402
    QUERY, RIM, AvailabilityStatus, DocumentEntryScheme, ObjectType, SubmissionSetScheme,
    SubmissionSetStatus,
)
from registry.ids import assign_ids  # noqa: E402
from registry.service import RegistryService  # noqa: E402
from registry.store import (  # noqa: E402
    DocumentCriteria, StoredObject, create_schema, document_query, open_engine, store_submission,
)
from registry.store.schema import document_entry, registry_object, submission_log  # noqa: E402
from soap.addressing import request_headers  # noqa: E402
from soap.message import write_message  # noqa: E402
from soap.splice import serialize  # noqa: E402
from scripts.processes import stop_process  # noqa: E402
from tests.profiles import samples  # noqa: E402

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
DOMAIN = "1.3.6.1.4.1.21367.2003.3.9"  # the samples' patient domain
APPROVED = AvailabilityStatus.APPROVED.value
SMALL = 10_000
DOCS_PER_PATIENT = 20
TARGETS = 20
PATIENTS_PER_TRANSACTION = 50
PG_PORT = 25450
LOADER_CACHE_KIB = 2_000_000  # SQLite page cache of the bulk loader's connection
MAX_CALLS = 1_000_000  # a bound on every timed loop, whatever --seconds says
UNIQUE_ID_SCHEMES = {DocumentEntryScheme.UNIQUE_ID.value, SubmissionSetScheme.UNIQUE_ID.value}


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def patient(name: str) -> str:
    return f"{name}^^^&{DOMAIN}&ISO"


def load_average() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


# --- submissions and their rows ----------------------------------------------------------------

class Submissions:
    """Fresh SubmitObjectsRequests of `docs` DocumentEntries: one encoded template, copied with
    new uniqueIds (building each from the model would cost more than registering it)."""

    def __init__(self, docs: int, patient_id: str):
        entries = tuple(samples.make_document_entry(f"Document{i:03d}", new_oid(), patient_id=patient_id)
                        for i in range(docs))
        ss = samples.make_submission_set(unique_id=new_oid(), patient_id=patient_id)
        members = tuple(samples.has_member(f"SsDoc{i:03d}", ss.id, e.id, SubmissionSetStatus.ORIGINAL)
                        for i, e in enumerate(entries))
        self.template = encode_submit_objects_request(Submission(
            document_entries=entries, submission_sets=(ss,), folders=(), associations=members))

    def fresh(self) -> etree._Element:
        element = copy.deepcopy(self.template)
        for identifier in element.iter(f"{{{RIM}}}ExternalIdentifier"):
            if identifier.get("identificationScheme") in UNIQUE_ID_SCHEMES:
                identifier.set("value", new_oid())
        return element


class _Recorder:
    """Stands in for a Connection: keeps what store_submission would execute, per table."""

    def __init__(self) -> None:
        self.batches: list[tuple[object, list[dict]]] = []

    def execute(self, statement, rows=None):
        if statement.table is submission_log:  # its id is set when the rows are written
            return SimpleNamespace(inserted_primary_key=(None,))
        self.batches.append((statement.table, rows))
        return None


def stored_rows(element: etree._Element) -> list[tuple[object, list[dict]]]:
    """The rows the registry writes for this SubmitObjectsRequest, per table in write order."""
    submission, _ = decode_submit_objects_request(element)
    stored, _ = assign_ids(submission)
    objects = [obj.with_changes(status=APPROVED) for obj in stored.objects()]
    recorder = _Recorder()
    store_submission(recorder, [StoredObject(obj, canonical_bytes(obj)) for obj in objects])
    return recorder.batches


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


def insert_rows(engine: Engine, batches: list[tuple[object, list[dict]]]) -> None:
    """The floor: one transaction, the submission_log row, one executemany per table."""
    with engine.begin() as conn:
        submission_id = conn.execute(submission_log.insert().values(stored_at=_now())).inserted_primary_key[0]
        for table, rows in batches:
            if table is registry_object:
                rows = [{**row, "submission_id": submission_id} for row in rows]
            conn.execute(table.insert(), rows)


# --- the bulk loader -----------------------------------------------------------------------------

@dataclass
class _Recipe:
    """How to copy one row: its values, which of them to substitute, its XML around the tokens."""

    values: list
    swapped: list[tuple[int, str]]
    xml_at: int | None
    xml_parts: list[bytes]
    submission_at: int | None


class BulkLoader:
    """Copies of one registered 20-DocumentEntry submission, each for a new patient: entryUUIDs,
    uniqueIds and the patient substituted in the rows and in the canonical XML (produced once).
    Written with the driver's executemany (SQLite) or COPY (PostgreSQL): SQLAlchemy's per-row
    parameter handling and psycopg's executemany would take an hour for a million entries."""

    def __init__(self) -> None:
        self.patient = patient("BENCH-TEMPLATE")
        batches = stored_rows(Submissions(DOCS_PER_PATIENT, self.patient).fresh())
        objects = dict(batches)[registry_object]
        self.uuids = [row["entry_uuid"] for row in objects]
        self.unique_ids = [row["unique_id"] for row in objects if row["unique_id"]]
        self.patient_xml = self.patient.replace("&", "&amp;").encode()
        tokens = sorted([*(t.encode() for t in (*self.uuids, *self.unique_ids)), self.patient_xml],
                        key=len, reverse=True)
        self.pattern = re.compile(b"(" + b"|".join(re.escape(t) for t in tokens) + b")")
        self.tables = [(table, list(rows[0]), [self._recipe(list(rows[0]), row) for row in rows])
                       for table, rows in batches]

    def _recipe(self, columns: list[str], row: dict) -> _Recipe:
        keys = {*self.uuids, *self.unique_ids, self.patient}
        xml_at = columns.index("xml") if "xml" in columns else None
        return _Recipe(
            [row[c] for c in columns],
            [(i, row[c]) for i, c in enumerate(columns) if isinstance(row[c], str) and row[c] in keys],
            xml_at, self.pattern.split(row["xml"]) if xml_at is not None else [],
            columns.index("submission_id") if "submission_id" in columns else None)

    def copy_for(self, patient_id: str, submission_id: int) -> list[list[tuple]]:
        """The rows of one copy, per table, as tuples in the order of `self.tables`' columns."""
        mapping = {u: f"urn:uuid:{uuid.uuid4()}" for u in self.uuids}
        mapping.update({u: new_oid() for u in self.unique_ids})
        mapping[self.patient] = patient_id
        in_xml = {k.encode(): v.encode() for k, v in mapping.items()}
        in_xml[self.patient_xml] = patient_id.replace("&", "&amp;").encode()
        copied = []
        for _, _, recipes in self.tables:
            rows = []
            for recipe in recipes:
                values = recipe.values.copy()
                for index, value in recipe.swapped:
                    values[index] = mapping[value]
                if recipe.xml_at is not None:
                    values[recipe.xml_at] = b"".join([in_xml[p] if i % 2 else p
                                                      for i, p in enumerate(recipe.xml_parts)])
                if recipe.submission_at is not None:
                    values[recipe.submission_at] = submission_id
                rows.append(tuple(values))
            copied.append(rows)
        return copied

    def load(self, engine: Engine, patients: list[str]) -> None:
        """Every patient's copy, PATIENTS_PER_TRANSACTION to a transaction."""
        for start in range(0, len(patients), PATIENTS_PER_TRANSACTION):
            chunk = patients[start:start + PATIENTS_PER_TRANSACTION]
            with engine.begin() as conn:
                first = (conn.execute(select(func.max(submission_log.c.id))).scalar() or 0) + 1
                ids = range(first, first + len(chunk))
                copies = [self.copy_for(p, i) for p, i in zip(chunk, ids)]
                _write(conn, "submission_log", ["id", "stored_at"], [(i, _now()) for i in ids])
                for position, (table, columns, _) in enumerate(self.tables):
                    _write(conn, table.name, columns, [row for rows in copies for row in rows[position]])
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT setval(pg_get_serial_sequence('submission_log', 'id'), :last)"),
                                 {"last": ids[-1]})


def _write(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    raw = conn.connection.driver_connection
    names = ", ".join(columns)
    cursor = raw.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cursor.close()


def loader_engine(url: str) -> Engine:
    engine = open_engine(url, pool_size=1)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _loader_pragmas)
    return engine


def _loader_pragmas(dbapi_connection, _record) -> None:
    # inserts at random UUID keys: the default 2 MB page cache makes a million slow; and the
    # loader's checkpoints need not wait for the disk (nothing it writes is precious)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{LOADER_CACHE_KIB}")
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA wal_autocheckpoint = 100000")  # pages: fewer, larger checkpoints
    cursor.close()


def fill(url: str, loader: BulkLoader, entries: int, label: str,
         minutes: float = float("inf"), reuse: bool = False) -> tuple[list[str], int]:
    """Load `entries` DocumentEntries (20 per patient), or what `minutes` allow; return the
    TARGETS patients spread among them (those loaded) and the DocumentEntries stored. The loader
    has an engine of its own: its SQLite settings stay out of the registry's. With `reuse`, a
    database holding DocumentEntries already (an earlier run's --work-dir) is measured as it is."""
    engine = loader_engine(url)
    try:
        if reuse:
            with engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(document_entry)).scalar_one()
                names = [patient(f"BENCH-T{k:02d}") for k in range(TARGETS)]
                present = set(conn.execute(select(registry_object.c.patient_id).distinct()
                                           .where(registry_object.c.patient_id.in_(names))).scalars())
            if stored:
                print(f"  {label}: {stored:,} DocumentEntries there already (--reuse)")
                return [name for name in names if name in present], stored
        return _fill(engine, loader, entries, label, minutes)
    finally:
        engine.dispose()


def _fill(engine: Engine, loader: BulkLoader, entries: int, label: str,
          minutes: float) -> tuple[list[str], int]:
    count = max(entries // DOCS_PER_PATIENT, TARGETS)
    targets = {round((k + 0.5) * count / TARGETS): patient(f"BENCH-T{k:02d}") for k in range(TARGETS)}
    names = [targets.get(i) or patient(f"BENCH-{i:07d}") for i in range(count)]
    started, step, loaded = time.perf_counter(), 1000, 0
    while loaded < count and time.perf_counter() - started < minutes * 60:
        loader.load(engine, names[loaded:loaded + step])
        loaded = min(loaded + step, count)
        if count > 5 * step:
            done = loaded * DOCS_PER_PATIENT
            print(f"  {label}: {done:,} DocumentEntries, {done / (time.perf_counter() - started):,.0f}/s",
                  end="\r", flush=True)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(document_entry)).scalar_one()
    print(f"  {label}: {stored:,} DocumentEntries loaded in {elapsed:,.0f} s "
          f"({stored / elapsed:,.0f}/s){'' if loaded == count else ' (stopped: --load-minutes)'}; "
          f"{load_average()}" + " " * 10)
    return [targets[k] for k in sorted(targets) if k < loaded], stored


# --- timed cells ---------------------------------------------------------------------------------

@dataclass
class Cell:
    """One thing timed: `call(item)` on items made (untimed) by `make`, in slices of active time."""

    name: str
    make: Callable[[], object]
    call: Callable[[object], None]
    batch: int = 10
    pool: deque = field(default_factory=deque)
    times: list[float] = field(default_factory=list)

    def run(self, budget: float) -> None:
        spent = 0.0
        while spent < budget and len(self.times) < MAX_CALLS:
            if not self.pool:
                self.pool.extend(self.make() for _ in range(self.batch))
                self.batch = min(self.batch * 2, 2000)
            item = self.pool.popleft()
            started = time.perf_counter()
            self.call(item)
            took = time.perf_counter() - started
            self.times.append(took)
            spent += took

    @property
    def rate(self) -> float:
        return len(self.times) / sum(self.times)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def alternate(cells: list[Cell], seconds: float, rounds: int) -> None:
    """Each cell gets `seconds` of active time, in `rounds` slices taken in turn."""
    for _ in range(rounds):
        for cell in cells:
            cell.run(seconds / rounds)


# --- processes -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def child(command: list[str], port: int, log: Path, ready_path: str) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise SystemExit(f"{command[:4]} exited: {log.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base + ready_path, timeout=1).status_code < 500:
                        break
                time.sleep(0.1)
            else:
                raise SystemExit(f"{command[:4]} did not answer in time")
            yield base
        finally:
            stop_process(process)


def xdsno_serve(url: str, work: Path, name: str):
    port = free_port()
    data = work / f"serve-{name}"
    data.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "xdsno.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(data), "--profile", "ihe", "--patient-domain", DOMAIN,
               "--database-url", url, "--actor", "registry"]
    return child(command, port, work / f"serve-{name}.log", "/health")


def bare_serve(work: Path, content_type: str, body: bytes):
    port = free_port()
    (work / "bare-response").write_bytes(body)
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(work / "bare-response"),
               "--content-type", content_type, "--port", str(port)]
    return child(command, port, work / "bare.log", "/")


def serve_bare(path: str, content_type: str, port: int) -> None:
    """The floor of part 3: waitress (as xdsno serve sets it up) answering fixed bytes."""
    import waitress

    body = Path(path).read_bytes()
    length = str(len(body))

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        while stream.read(65536):
            pass
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", length)])
        return [body]

    waitress.serve(app, host="127.0.0.1", port=port, threads=8, ident="xdsno", channel_timeout=300,
                   max_request_body_size=1 << 40, outbuf_high_watermark=4 * 1024 * 1024,
                   clear_untrusted_proxy_headers=True, _quiet=True)


# --- databases -----------------------------------------------------------------------------------

@contextlib.contextmanager
def databases(kind: str, work: Path, postgresql_url: str | None) -> Iterator[dict[str, str]]:
    names = ("write", "small", "big")
    if kind == "sqlite":
        yield {name: f"sqlite:///{work / f'{name}.sqlite3'}" for name in names}
        return
    cluster = None
    if not postgresql_url:
        cluster = work / "pg"
        started = subprocess.run([str(REPO_ROOT / "scripts/ci/postgres.sh"), "start", str(cluster), str(PG_PORT)],
                                 check=True, capture_output=True, text=True)
        postgresql_url = started.stdout.strip().splitlines()[-1]
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT", pool_size=1)
    created = {name: f"xdsno_bench_{name}_{uuid.uuid4().hex[:8]}" for name in names}
    try:
        with admin.connect() as conn:
            for database in created.values():
                conn.execute(text(f'CREATE DATABASE "{database}"'))
        yield {name: make_url(postgresql_url).set(database=database).render_as_string(hide_password=False)
               for name, database in created.items()}
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            for database in created.values():
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                             {"d": database})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        admin.dispose()
        if cluster is not None:
            subprocess.run([str(REPO_ROOT / "scripts/ci/postgres.sh"), "stop", str(cluster)], check=False)


def engine_for(url: str) -> Engine:
    engine = open_engine(url)
    create_schema(engine)
    return engine


def service_for(engine: Engine) -> RegistryService:
    return RegistryService(engine, load_profile("ihe"), patient_domains=(DOMAIN,))


# --- the parts -------------------------------------------------------------------------------------

def soap_bytes(action: str, body: etree._Element, to: str) -> tuple[str, bytes]:
    message = write_message(request_headers(action, to=to), body)
    return message.content_type, b"".join(message.body)


def http_call(client: httpx.Client, url: str, content_type: str, expect: bytes = b"") -> Callable:
    def call(body: bytes) -> None:
        response = client.post(url, content=body, headers={"Content-Type": content_type})
        if response.status_code != 200 or expect not in response.content:
            raise SystemExit(f"unexpected answer from {url}: HTTP {response.status_code} {response.content[:600]!r}")
    return call


def registered(response: etree._Element) -> None:
    if not response.get("status", "").endswith(":Success"):
        raise SystemExit("registration failed: " + etree.tostring(response, encoding="unicode")[:2000])


def register_part(engine: Engine, url: str, work: Path, seconds: float, rounds: int) -> list[tuple]:
    service = service_for(engine)
    rows = []
    with xdsno_serve(url, work, "write") as base, httpx.Client(timeout=600) as client:
        endpoint = base + "/registry"
        for docs in (1, 100):
            made = Submissions(docs, patient(f"BENCH-W{docs}"))
            content_type = soap_bytes(REGISTER, made.fresh(), endpoint)[0]
            batch = 20 if docs == 1 else 2
            cells = [
                Cell("in-process", made.fresh, lambda e: registered(service.register(e)), batch),
                Cell("HTTP", lambda: soap_bytes(REGISTER, made.fresh(), endpoint)[1],
                     http_call(client, endpoint, content_type, b"ResponseStatusType:Success"), batch),
                Cell("floor", lambda: stored_rows(made.fresh()), lambda b: insert_rows(engine, b), batch),
            ]
            print(f"  ITI-42, {docs} DocumentEntr{'y' if docs == 1 else 'ies'} per submission; {load_average()}")
            alternate(cells, seconds, rounds)
            ours_local, ours_http, floor = cells
            rows.append((f"ITI-42 {docs} DE/submission, in-process register vs Core executemany",
                         f"{ours_local.rate:,.1f}/s", f"{floor.rate:,.1f}/s", ours_local.rate / floor.rate))
            rows.append((f"ITI-42 {docs} DE/submission, HTTP (xdsno serve) vs Core executemany",
                         f"{ours_http.rate:,.1f}/s", f"{floor.rate:,.1f}/s", ours_http.rate / floor.rate))
    print(f"  after ITI-42; {load_average()}")
    return rows


def find_documents_request(patient_id: str) -> etree._Element:
    root = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(root, f"{{{QUERY}}}ResponseOption", returnType="LeafClass", returnComposedObjects="true")
    adhoc = etree.SubElement(root, f"{{{RIM}}}AdhocQuery", id=FIND_DOCUMENTS)
    for name, value in (("$XDSDocumentEntryPatientId", f"'{patient_id}'"),
                        ("$XDSDocumentEntryStatus", f"('{APPROVED}')")):
        slot = etree.SubElement(adhoc, f"{{{RIM}}}Slot", name=name)
        etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    return root


def answered_documents(response: etree._Element) -> int:
    if not response.get("status", "").endswith(":Success"):
        raise SystemExit("FindDocuments failed: " + etree.tostring(response, encoding="unicode")[:2000])
    return len(response.findall(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}ExtrinsicObject"))


def query_cell(name: str, service: RegistryService, targets: list[str]) -> Cell:
    requests = [find_documents_request(p) for p in targets]
    for request in requests:  # every target answers its 20 documents (and is read once)
        found = answered_documents(service.query(request))
        if found != DOCS_PER_PATIENT:
            raise SystemExit(f"{name}: FindDocuments found {found} documents, not {DOCS_PER_PATIENT}")
    turn = iter(range(MAX_CALLS * 2))
    return Cell(name, lambda: requests[next(turn) % len(requests)], lambda request: written(service, request), 100)


def written(service: RegistryService, request: etree._Element) -> bytes:
    """The answer as the SOAP endpoint writes it: stored XML spliced in unparsed."""
    answer = service.query_answer(request)
    return serialize(answer.body, answer.spliced)


def query_part(small: Engine, big: Engine, small_targets, big_targets, entries: int,
               seconds: float, rounds: int) -> list[tuple]:
    print(f"  FindDocuments in-process; {load_average()}")
    cells = [query_cell("small", service_for(small), small_targets), query_cell("big", service_for(big), big_targets)]
    alternate(cells, seconds, rounds)
    small_cell, big_cell = cells
    ms = 1000

    def latency(cell: Cell) -> str:
        return f"p50 {cell.percentile(0.5) * ms:.2f} ms, p95 {cell.percentile(0.95) * ms:.2f} ms"

    return [(f"FindDocuments LeafClass 20 DE, in-process: {entries:,} vs {SMALL:,} entries",
             latency(big_cell), latency(small_cell),
             big_cell.percentile(0.5) / small_cell.percentile(0.5),
             big_cell.percentile(0.95) / small_cell.percentile(0.95))]


def http_query_part(urls: dict[str, str], targets: dict[str, list[str]], entries: int, work: Path,
                    seconds: float, rounds: int) -> list[tuple]:
    rows = []
    with xdsno_serve(urls["small"], work, "small") as small_base, \
            xdsno_serve(urls["big"], work, "big") as big_base, httpx.Client(timeout=60) as client:
        sent = {}
        for name, base in (("small", small_base), ("big", big_base)):
            endpoint = base + "/registry"
            content_type, body = soap_bytes(STORED_QUERY, find_documents_request(targets[name][0]), endpoint)
            answer = client.post(endpoint, content=body, headers={"Content-Type": content_type})
            sent[name] = (endpoint, content_type, body, answer)
        endpoint, content_type, body, answer = sent["big"]
        with bare_serve(work, answer.headers["content-type"], answer.content) as bare_base:
            print(f"  ITI-18 over HTTP, answer {len(answer.content):,} bytes; {load_average()}")
            cells = [Cell(name, lambda sent_body=sent_body: sent_body,
                          http_call(client, url, ct, b"ExtrinsicObject"), 100)
                     for name, (url, ct, sent_body, _) in sent.items()]
            cells.append(Cell("bare", lambda: body, http_call(client, bare_base + "/", content_type), 100))
            alternate(cells, seconds, rounds)
    small_cell, big_cell, bare = cells
    for cell, size in ((small_cell, SMALL), (big_cell, entries)):
        rows.append((f"ITI-18 FindDocuments over HTTP at {size:,} entries vs bare waitress app, same bytes",
                     f"{cell.rate:,.0f}/s (p50 {cell.percentile(0.5) * 1000:.1f} ms)",
                     f"{bare.rate:,.0f}/s (p50 {bare.percentile(0.5) * 1000:.1f} ms)", cell.rate / bare.rate))
    print(f"  after ITI-18; {load_average()}")
    return rows


def explain(engine: Engine, patient_id: str) -> str:
    query = document_query(DocumentCriteria(patient_ids=[patient_id], statuses=[APPROVED],
                                            object_types=[ObjectType.STABLE_DOCUMENT.value], limit=1001))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(prefix + sql).all()
    return "\n".join("    " + " | ".join(str(v) for v in row) for row in plan)


def run_database(kind: str, args, work: Path) -> list[tuple]:
    print(f"\n== {kind} ==  {load_average()}")
    with databases(kind, work, args.postgresql_url) as urls:
        engines = {name: engine_for(url) for name, url in urls.items()}
        try:
            parts = set(args.parts.split(","))
            rows = register_part(engines["write"], urls["write"], work, args.seconds, args.rounds) \
                if "iti42" in parts else []
            if parts & {"query", "iti18"}:
                loader = BulkLoader()
                targets, _ = fill(urls["small"], loader, SMALL, "small", reuse=args.reuse)
                targets = {"small": targets}
                targets["big"], entries = fill(urls["big"], loader, args.entries, "big", args.load_minutes,
                                               reuse=args.reuse)
            if "query" in parts:
                rows += query_part(engines["small"], engines["big"], targets["small"], targets["big"],
                                   entries, args.seconds, args.rounds)
            if "iti18" in parts:
                rows += http_query_part(urls, targets, entries, work, args.seconds, args.rounds)
            if parts & {"query", "iti18"}:
                print(f"  plan of the FindDocuments SELECT on big ({kind}):\n{explain(engines['big'], targets['big'][0])}")
        finally:
            for engine in engines.values():
                engine.dispose()
    return [(kind, *row) for row in rows]


def print_table(rows: list[tuple]) -> None:
    print("\n| db | measurement | ours | floor / baseline | ratio |")
    print("|---|---|---|---|---|")
    for kind, label, ours, floor, *ratios in rows:
        print(f"| {kind} | {label} | {ours} | {floor} | {' / '.join(f'{r:.2f}' for r in ratios)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--entries", type=int, default=1_000_000, help="DocumentEntries of the big database")
    parser.add_argument("--seconds", type=float, default=10.0, help="active time per cell (in --rounds slices)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parts", default="iti42,query,iti18",
                        help="comma-separated: iti42 (1), query (2, in-process FindDocuments), iti18 (3, over HTTP)")
    parser.add_argument("--load-minutes", type=float, default=120.0,
                        help="stop loading the big database after this long and measure what is there")
    parser.add_argument("--reuse", action="store_true",
                        help="with --work-dir (SQLite): measure the databases an earlier run loaded there")
    parser.add_argument("--postgresql-url", help="server to create the databases on (default: own cluster)")
    parser.add_argument("--work-dir", help="folder for SQLite files, logs, the cluster (default: temporary)")
    parser.add_argument("--serve-bare", help=argparse.SUPPRESS)
    parser.add_argument("--content-type", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.content_type, args.port)
        return
    args.entries = max(SMALL, min(args.entries, 50_000_000))
    args.seconds = max(0.5, min(args.seconds, 600.0))
    args.rounds = max(1, min(args.rounds, 50))
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="xdsno-bench-registry-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the PostgreSQL cluster runs as the postgres user
    print(f"python scripts/bench/registry.py {' '.join(sys.argv[1:])}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit}, Python {sys.version.split()[0]}, {load_average()}, work folder {work}")
    rows = []
    try:
        for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
            rows += run_database(kind, args, work)
    finally:
        print_table(rows)
        print(f"\nend: {load_average()}")
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
