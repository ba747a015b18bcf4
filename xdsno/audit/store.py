"""The local audit store and outbox (SQLAlchemy; SQLite or PostgreSQL).

Tables:
- `audit_record`: every record, in full (its JSON), by time — the queryable local copy
  (`GET /admin/audit`, the innsynslogg) that outlives delivery;
- `audit_patient`: which patients each record names (the innsynslogg's index);
- `audit_document_patient`: document uniqueId → patient, learnt from submissions and query
  answers, so a retrieve (ITI-43/39, whose messages carry no patient) is recorded with its
  patient;
- `audit_outbox`: one row per record and destination (syslog, FHIR) until it is delivered:
  the request thread inserts it with the record in one short transaction, the shipper claims
  due rows (a lease, so several worker processes never send a row twice at once), marks them
  delivered or schedules a retry. Nothing lives only in memory: a restart resumes delivery.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column, Engine, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text, and_, func, insert,
    or_, select, update,
)
from sqlalchemy.dialects import postgresql, sqlite

from xdsno.tables import create_missing_tables

from .record import AuditRecord, now_iso

metadata = MetaData()

audit_record = Table(
    "audit_record", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(36), nullable=False, unique=True),
    Column("recorded", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("outcome", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

audit_patient = Table(
    "audit_patient", metadata,
    Column("patient_id", String, primary_key=True),
    Column("seq", Integer, ForeignKey("audit_record.seq", ondelete="CASCADE"), primary_key=True),
)

audit_document_patient = Table(
    "audit_document_patient", metadata,
    Column("unique_id", String, primary_key=True),
    Column("patient_id", String, nullable=False),
)

audit_outbox = Table(
    "audit_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, ForeignKey("audit_record.seq", ondelete="CASCADE"), nullable=False),
    Column("destination", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due", Float, nullable=False),
    Column("claim", String(36)),
    Column("claimed_until", Float),
    Column("delivered", String(32)),
    Column("last_error", Text),
    Index("audit_outbox_pending", "destination", "delivered", "due"),
)

# built once: a statement built per call costs its cache key each time
_INSERT_RECORD = insert(audit_record)
_INSERT_PATIENT = insert(audit_patient)
_INSERT_OUTBOX = insert(audit_outbox)
_INSERT_DOCUMENT_IGNORING = {
    "sqlite": sqlite.insert(audit_document_patient).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(audit_document_patient).on_conflict_do_nothing(),
}


@dataclass(frozen=True)
class Pending:
    """A claimed outbox row: which row, how often it was tried, the record to deliver."""

    outbox_id: int
    attempts: int
    record: AuditRecord


class AuditStore:
    """The audit tables on one engine; thread-safe as the engine is."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create_schema(self) -> None:
        create_missing_tables(self.engine, metadata)

    # --- writing (request thread)
    def append(self, record: AuditRecord, destinations: Sequence[str] = ()) -> None:
        """Store `record` and queue it for every destination, in one transaction."""
        self.append_all([record], destinations)

    def append_all(self, records: Sequence[AuditRecord], destinations: Sequence[str] = ()) -> None:
        """Store `records` and queue each for every destination, all in one transaction."""
        bodies = [json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) for record in records]
        with self.engine.begin() as conn:
            for record, body in zip(records, bodies):
                _insert(conn, record, body, destinations)

    # --- reading
    def patients_of(self, unique_ids: Iterable[str]) -> dict[str, str]:
        """Document uniqueId → patient, for the documents whose patient the store has seen."""
        ids = sorted({uid for uid in unique_ids if uid})
        if not ids:
            return {}
        table = audit_document_patient
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.unique_id, table.c.patient_id).where(table.c.unique_id.in_(ids)))
            return {unique_id: patient for unique_id, patient in rows}

    def records(self, *, patient: str | None = None, since: str | None = None, until: str | None = None,
                transactions: Iterable[str] | None = None, limit: int = 1000) -> list[AuditRecord]:
        """Records in time order, filtered by patient, time (`recorded` >= since, < until) and kind."""
        query = select(audit_record.c.body).order_by(audit_record.c.recorded, audit_record.c.seq).limit(limit)
        if patient:
            query = query.join(audit_patient, audit_patient.c.seq == audit_record.c.seq).where(
                audit_patient.c.patient_id == patient)
        if since:
            query = query.where(audit_record.c.recorded >= since)
        if until:
            query = query.where(audit_record.c.recorded < until)
        if transactions is not None:
            query = query.where(audit_record.c.kind.in_(list(transactions)))
        with self.engine.connect() as conn:
            return [AuditRecord.from_dict(json.loads(body)) for (body,) in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(audit_record)).scalar_one()

    def pending(self) -> dict[str, int]:
        """Undelivered records per destination."""
        query = (select(audit_outbox.c.destination, func.count()).where(audit_outbox.c.delivered.is_(None))
                 .group_by(audit_outbox.c.destination))
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())

    # --- the outbox (shipper thread)
    def claim(self, destination: str, *, limit: int = 100, lease_seconds: float = 60.0) -> list[Pending]:
        """Lease up to `limit` due, undelivered rows of `destination` (oldest first)."""
        now, token = time.time(), str(uuid.uuid4())
        box = audit_outbox
        free = or_(box.c.claimed_until.is_(None), box.c.claimed_until < now)
        due = and_(box.c.destination == destination, box.c.delivered.is_(None), box.c.due <= now, free)
        chosen = select(box.c.id).where(due).order_by(box.c.id).limit(limit).scalar_subquery()
        with self.engine.begin() as conn:
            conn.execute(update(box).where(box.c.id.in_(chosen), free)
                         .values(claim=token, claimed_until=now + lease_seconds))
            rows = conn.execute(
                select(box.c.id, box.c.attempts, audit_record.c.body)
                .join(audit_record, audit_record.c.seq == box.c.seq)
                .where(box.c.claim == token).order_by(box.c.id)).all()
        return [Pending(row.id, row.attempts, AuditRecord.from_dict(json.loads(row.body))) for row in rows]

    def delivered(self, outbox_ids: Sequence[int]) -> None:
        if outbox_ids:
            self._update(outbox_ids, delivered=now_iso(), claim=None, claimed_until=None, last_error=None)

    def failed(self, outbox_ids: Sequence[int], error: str, retry_at: float) -> None:
        """Release the rows for another attempt at `retry_at` (epoch seconds)."""
        if outbox_ids:
            self._update(outbox_ids, attempts=audit_outbox.c.attempts + 1, due=retry_at, claim=None,
                         claimed_until=None, last_error=error[:2000])

    def next_due(self, destination: str) -> float | None:
        """When the earliest undelivered row of `destination` is due (epoch seconds)."""
        box = audit_outbox
        query = select(func.min(box.c.due)).where(box.c.destination == destination, box.c.delivered.is_(None))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def _update(self, outbox_ids: Sequence[int], **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(audit_outbox).where(audit_outbox.c.id.in_(list(outbox_ids))).values(**values))


def _insert(conn, record: AuditRecord, body: str, destinations: Sequence[str]) -> None:
    seq = conn.execute(_INSERT_RECORD, {
        "record_id": record.id, "recorded": record.recorded, "kind": record.event.transaction,
        "outcome": int(record.outcome), "body": body,
    }).inserted_primary_key[0]
    if record.patients:
        conn.execute(_INSERT_PATIENT, [{"patient_id": p, "seq": seq} for p in set(record.patients)])
    known = {d.unique_id: d.patient_id for d in record.documents if d.unique_id and d.patient_id}
    if known:
        _insert_missing(conn, known)
    if destinations:
        now = time.time()
        conn.execute(_INSERT_OUTBOX, [
            {"seq": seq, "destination": name, "attempts": 0, "due": now} for name in destinations])


def _insert_missing(conn, patients_by_document: dict[str, str]) -> None:
    """Insert document → patient rows, leaving rows already there (another thread's too)."""
    rows = [{"unique_id": uid, "patient_id": patient} for uid, patient in patients_by_document.items()]
    ignoring = _INSERT_DOCUMENT_IGNORING.get(conn.dialect.name)
    if ignoring is not None:
        conn.execute(ignoring, rows)
    else:
        known = set(conn.execute(select(audit_document_patient.c.unique_id).where(
            audit_document_patient.c.unique_id.in_(list(patients_by_document)))).scalars())
        missing = [row for row in rows if row["unique_id"] not in known]
        if missing:
            conn.execute(insert(audit_document_patient), missing)
