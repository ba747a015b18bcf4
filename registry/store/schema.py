"""SQL schema of the Document Registry (ITI TF-2 3.42 Register Document Set-b, 3.18 Registry
Stored Query; ITI TF-3 4.2.3 metadata attributes).

One `registry_object` row per stored DocumentEntry, SubmissionSet, Folder or Association,
holding what every object shares plus its canonical ebRIM XML, which queries answer with as
stored (no re-encoding per request). The attributes the stored queries of ITI TF-2
3.18.4.1.2.3.7 filter on live in one table per kind (`document_entry`, `submission_set`,
`folder`, `association`) and, when multi-valued, in child tables (`object_code`,
`author_value`, `reference_id`). `known_patient` lists the patients fed to the registry
(ITI TF-2 3.42.4.1.3: a patient id must be known to the registry).

Times (creationTime, serviceStart/StopTime, submissionTime, lastUpdateTime) are stored as
14-character UTC strings `YYYYMMDDHHMMSS` (see `registry.store.times`), so that range filters
are plain string comparisons that sort correctly.

Only generic SQLAlchemy types are used: SQLite and PostgreSQL get the same tables.
`create_schema(engine)` creates what is missing and records the schema version; later versions
add their steps to `MIGRATIONS`.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Callable

from sqlalchemy import (
    BigInteger, Column, Connection, Engine, ForeignKey, Index, Integer, LargeBinary, MetaData,
    String, Table, select,
)

SCHEMA_VERSION = 1


class ObjectKind(StrEnum):
    """What a `registry_object` row is."""

    DOCUMENT_ENTRY = "doc"
    SUBMISSION_SET = "ss"
    FOLDER = "folder"
    ASSOCIATION = "assoc"


class CodeAttribute(StrEnum):
    """Which multi-valued coded attribute an `object_code` row belongs to."""

    EVENT_CODE = "eventCodeList"
    CONFIDENTIALITY_CODE = "confidentialityCode"
    FOLDER_CODE = "codeList"


class AuthorAttribute(StrEnum):
    """Which author value an `author_value` row holds (ITI TF-3 4.2.3.1.4)."""

    PERSON = "authorPerson"
    INSTITUTION = "authorInstitution"
    ROLE = "authorRole"
    SPECIALTY = "authorSpecialty"
    TELECOMMUNICATION = "authorTelecommunication"


metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    # a single row (id 1); writers lock it to serialise registry-state checks and inserts
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

submission_log = Table(
    "submission_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stored_at", String(14), nullable=False),
)

registry_object = Table(
    "registry_object", metadata,
    Column("entry_uuid", String, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("lid", String, nullable=False),
    Column("status", String, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("unique_id", String),
    Column("patient_id", String),
    Column("home", String),
    Column("xml", LargeBinary, nullable=False),
    # insert order: the submission, then the object's place in it
    Column("submission_id", Integer, ForeignKey("submission_log.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_registry_object_patient", "patient_id", "kind", "status"),
    Index("ix_registry_object_unique_id", "unique_id", "kind"),
    Index("ix_registry_object_lid", "lid", "version"),
    Index("ix_registry_object_order", "submission_id", "position"),
)


def _owner(name: str = "entry_uuid", primary_key: bool = True) -> Column:
    return Column(name, String, ForeignKey("registry_object.entry_uuid", ondelete="CASCADE"),
                  primary_key=primary_key, nullable=False)


def _code_columns(prefix: str) -> list[Column]:
    return [Column(f"{prefix}_code", String), Column(f"{prefix}_scheme", String)]


document_entry = Table(
    "document_entry", metadata,
    _owner(),
    Column("object_type", String, nullable=False),
    *_code_columns("class"),
    *_code_columns("type"),
    *_code_columns("format"),
    *_code_columns("facility_type"),
    *_code_columns("practice_setting"),
    Column("creation_time", String(14)),
    Column("service_start_time", String(14)),
    Column("service_stop_time", String(14)),
    Column("hash", String),
    Column("size", BigInteger),
    Column("repository_unique_id", String),
    Column("availability", String),
    Column("mime_type", String),
    Index("ix_document_entry_class", "class_code", "class_scheme"),
    Index("ix_document_entry_type", "type_code", "type_scheme"),
    Index("ix_document_entry_format", "format_code", "format_scheme"),
    Index("ix_document_entry_facility_type", "facility_type_code", "facility_type_scheme"),
    Index("ix_document_entry_practice_setting", "practice_setting_code", "practice_setting_scheme"),
    Index("ix_document_entry_creation_time", "creation_time"),
    Index("ix_document_entry_repository", "repository_unique_id"),
)

submission_set = Table(
    "submission_set", metadata,
    _owner(),
    Column("submission_time", String(14)),
    Column("source_id", String),
    *_code_columns("content_type"),
    Index("ix_submission_set_source_id", "source_id"),
    Index("ix_submission_set_submission_time", "submission_time"),
    Index("ix_submission_set_content_type", "content_type_code", "content_type_scheme"),
)

folder = Table(
    "folder", metadata,
    _owner(),
    Column("last_update_time", String(14)),
    Index("ix_folder_last_update_time", "last_update_time"),
)

association = Table(
    "association", metadata,
    _owner(),
    Column("type", String, nullable=False),
    # no foreign keys: either end may be an object this registry does not hold (ObjectRef)
    Column("source", String, nullable=False),
    Column("target", String, nullable=False),
    Column("submission_set_status", String),
    Column("previous_version", String),
    Index("ix_association_source", "source"),
    Index("ix_association_target", "target"),
    Index("ix_association_type", "type"),
)

object_code = Table(
    "object_code", metadata,
    _owner(),
    Column("attribute", String(24), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("code", String, nullable=False),
    Column("scheme", String),
    Index("ix_object_code_value", "attribute", "code", "scheme"),
)

author_value = Table(
    "author_value", metadata,
    _owner(),
    Column("author", Integer, primary_key=True, autoincrement=False),
    Column("attribute", String(24), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("value", String, nullable=False),
    # lower-cased once at write time: wildcard matches are case-insensitive on every database
    Column("value_folded", String, nullable=False),
    Index("ix_author_value_folded", "attribute", "value_folded"),
)

reference_id = Table(
    "reference_id", metadata,
    _owner(),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("value", String, nullable=False),
    Index("ix_reference_id_value", "value"),
)

known_patient = Table(
    "known_patient", metadata,
    # patients fed to the registry (admin call, CLI; later ITI-8/ITI-104), canonical CX text
    Column("patient_id", String, primary_key=True),
    Column("added_at", String(14), nullable=False),
)

#: PostgreSQL advisory lock held while the schema is created or migrated (any fixed number)
_SCHEMA_LOCK_KEY = 0x78647362

#: Steps from version N to N+1, run in order by `create_schema`.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


class SchemaVersionError(RuntimeError):
    """The database was written by a newer version of this code."""


def create_schema(engine: Engine) -> int:
    """Create missing tables and indexes, migrate older schemas; idempotent. Returns the version.

    Safe when several processes (gunicorn workers) start on one database at once: the whole
    check-and-create holds the write lock (SQLite BEGIN IMMEDIATE, which waits for the busy
    timeout where a deferred transaction's lock upgrade fails at once; a PostgreSQL advisory lock).
    """
    from .engine import _WRITE

    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})")
            return _create_or_migrate(conn)


def _create_or_migrate(conn: Connection) -> int:
    metadata.create_all(conn, checkfirst=True)
    found = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1)).scalar()
    if found is None:
        conn.execute(schema_version.insert().values(id=1, version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(f"database schema {found} is newer than this code ({SCHEMA_VERSION})")
    for version in range(found, SCHEMA_VERSION):
        MIGRATIONS[version](conn)
    if found != SCHEMA_VERSION:
        conn.execute(schema_version.update().where(schema_version.c.id == 1).values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION


def drop_schema(engine: Engine) -> None:
    """Drop every table of the registry (tests and `xdsno` reset commands)."""
    metadata.drop_all(engine, checkfirst=True)
