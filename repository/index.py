"""The repository's own index: which blob holds the document with a given uniqueId.

One SQL table, `repository_document` (document uniqueId → blob key, size, SHA-1, mimeType,
repositoryUniqueId, stored-at), created at start when missing. It lives in the deployment's
database when `database_url` is set (PostgreSQL: registry and repository tables side by side,
one thing to back up) and otherwise in its own SQLite file next to the blobs
(`data_dir/repository.sqlite3`), so a co-located registry's write lock never delays a
retrieve. The composition root chooses the URL; this module only needs one.

ITI-43 (ITI TF-2 3.43.4.1.3) looks documents up here by uniqueId; ITI-41 (3.41.4.1.3) adds
rows before registering and removes them again if the registry refuses; ITI-86 (RMD 3.86)
removes rows. The uniqueId is the primary key, so one uniqueId can never point at two blobs.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

#: ids per IN (...) list: well below SQLite's and PostgreSQL's parameter limits
_CHUNK = 500

metadata = MetaData()

repository_document = Table(
    "repository_document", metadata,
    Column("document_unique_id", String(256), primary_key=True),
    Column("blob_key", String(512), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha1", String(40), nullable=False),
    Column("mime_type", String(256), nullable=False),
    Column("repository_unique_id", String(256), nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)


#: built once: SQLAlchemy then finds their compiled form by cache key, not by building them again
_SELECT_BY_IDS = select(repository_document).where(
    repository_document.c.document_unique_id.in_(bindparam("ids", expanding=True)))
_DELETE_BY_IDS = delete(repository_document).where(
    repository_document.c.document_unique_id.in_(bindparam("ids", expanding=True)))
_INSERT = repository_document.insert()


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One index row: where a document's bytes are and what they are."""

    unique_id: str
    blob_key: str
    size: int
    sha1: str
    mime_type: str
    repository_unique_id: str
    stored_at: datetime | None = None


class DuplicateDocument(Exception):
    """A uniqueId being added is already in the index (a concurrent submission won the race)."""


class DocumentIndex:
    """The `repository_document` table on an SQLAlchemy engine; safe to share between threads."""

    def __init__(self, engine: Engine, *, create: bool = True):
        self.engine = engine
        if create:
            _create_table(engine)

    def get(self, unique_id: str) -> StoredDocument | None:
        return self.get_many([unique_id]).get(unique_id)

    def get_many(self, unique_ids: Iterable[str]) -> dict[str, StoredDocument]:
        """The rows of those uniqueIds that are in the index, by uniqueId."""
        found: dict[str, StoredDocument] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(unique_ids))):
                rows = conn.execute(_SELECT_BY_IDS, {"ids": chunk})
                found.update((row.document_unique_id, _document(row)) for row in rows)
        return found

    def add_all(self, documents: Iterable[StoredDocument]) -> None:
        """Add the rows in one transaction: all or none; DuplicateDocument when one exists."""
        now = datetime.now(timezone.utc)
        rows = [_row(document, now) for document in documents]
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(_INSERT, rows)
        except IntegrityError as exc:
            raise DuplicateDocument(str(exc.orig)) from None

    def remove(self, unique_ids: Iterable[str]) -> None:
        """Remove the rows of those uniqueIds (absent ones are no error)."""
        with self.engine.begin() as conn:
            for chunk in _chunks(sorted(set(unique_ids))):
                conn.execute(_DELETE_BY_IDS, {"ids": chunk})

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(repository_document)).scalar_one()

    def close(self) -> None:
        self.engine.dispose()


def open_document_index(url: str) -> DocumentIndex:
    """The index in the database at `url` (any SQLAlchemy URL); the table is created if missing."""
    return DocumentIndex(_engine(url))


def _create_table(engine: Engine) -> None:
    try:
        metadata.create_all(engine)
    except DBAPIError:
        # gunicorn workers start together: another one may create the table between the
        # check and the CREATE TABLE ("already exists"; PostgreSQL: a pg_type unique violation)
        if not inspect(engine).has_table(repository_document.name):
            raise


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_recycle=1800)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL: retrieves (readers) never wait for an ITI-41 insert (the writer).
    cursor = dbapi_connection.cursor()
    try:
        _use_wal(cursor)
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _use_wal(cursor, wait_seconds: float = 30.0) -> None:
    # Switching to WAL answers "database is locked" at once, without the busy handler, while
    # another process opens the fresh file too (gunicorn workers starting): retry a while.
    # (The registry's engine does the same; actors share no code beyond soap and profiles.)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _row(document: StoredDocument, now: datetime) -> dict:
    return {
        "document_unique_id": document.unique_id,
        "blob_key": document.blob_key,
        "size": document.size,
        "sha1": document.sha1.lower(),
        "mime_type": document.mime_type,
        "repository_unique_id": document.repository_unique_id,
        "stored_at": document.stored_at or now,
    }


def _document(row) -> StoredDocument:
    return StoredDocument(row.document_unique_id, row.blob_key, row.size, row.sha1, row.mime_type,
                          row.repository_unique_id, row.stored_at)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]
