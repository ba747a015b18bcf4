"""Lookups the Document Registry needs from its store: registry-state checks of ITI TF-2
3.42.4.1.3 (uniqueId reuse, RPLC/XFRM/APND targets, patient consistency) and the stored queries
of ITI TF-2 3.18.4.1.2.4 (GetDocuments, GetAssociations, GetFolderAndContents, …).

Every function issues one SQL statement per call (IN lists; lists longer than `CHUNK` are
split so no database's parameter limit is reached) and returns plain dataclasses, in insert
order unless said otherwise. The SELECT builders for filtering queries live in
`registry.store.filters` and are re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Row, Select, bindparam, or_, select

from .filters import (
    CodeList, DocumentCriteria, TimeRange, document_query, folder_query, submission_set_query,
)
from .schema import ObjectKind, association, document_entry, registry_object

#: values per IN list; below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters
CHUNK = 5000
#: up to this many patients, a document SELECT binds each as a parameter of a cached statement
BOUND_PATIENTS = 8


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    """The indexed columns of one stored object; document-only fields are None for others."""

    entry_uuid: str
    kind: ObjectKind
    lid: str
    status: str
    version: int
    unique_id: str | None
    patient_id: str | None
    home: str | None
    object_type: str | None = None
    hash: str | None = None
    size: int | None = None
    repository_unique_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredXml:
    """One stored object's canonical ebRIM XML and the indexed columns an answer names it by
    (repository_unique_id: DocumentEntries only)."""

    entry_uuid: str
    kind: ObjectKind
    xml: bytes
    unique_id: str | None
    patient_id: str | None
    home: str | None
    repository_unique_id: str | None = None


@dataclass(frozen=True, slots=True)
class AssociationSummary:
    """One stored Association."""

    entry_uuid: str
    type: str
    source: str
    target: str
    status: str
    submission_set_status: str | None
    previous_version: str | None


_ORDER = (registry_object.c.submission_id, registry_object.c.position)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start:start + CHUNK]


def _summary_select() -> Select:
    ro, de = registry_object, document_entry
    return (select(ro.c.entry_uuid, ro.c.kind, ro.c.lid, ro.c.status, ro.c.version, ro.c.unique_id,
                   ro.c.patient_id, ro.c.home, de.c.object_type, de.c.hash, de.c.size,
                   de.c.repository_unique_id)
            .select_from(ro.outerjoin(de, de.c.entry_uuid == ro.c.entry_uuid))
            .order_by(*_ORDER))


def _summary(row: Row) -> ObjectSummary:
    return ObjectSummary(row.entry_uuid, ObjectKind(row.kind), row.lid, row.status, row.version,
                         row.unique_id, row.patient_id, row.home, row.object_type, row.hash,
                         row.size, row.repository_unique_id)


def _summaries(conn: Connection, column, values: Iterable[str], *conditions) -> list[ObjectSummary]:
    rows: list[Row] = []
    chunks = list(_chunks(values))
    for chunk in chunks:
        rows += conn.execute(_summary_select().add_columns(*_ORDER)
                             .where(column.in_(chunk), *conditions)).all()
    if len(chunks) > 1:
        rows.sort(key=lambda r: (r.submission_id, r.position))
    return [_summary(row) for row in rows]


def find_by_unique_ids(conn: Connection, kind: ObjectKind | None,
                       unique_ids: Iterable[str]) -> list[ObjectSummary]:
    """Stored objects of `kind` (any kind when None) whose uniqueId is one of `unique_ids`."""
    conditions = [registry_object.c.kind == kind.value] if kind is not None else []
    return _summaries(conn, registry_object.c.unique_id, unique_ids, *conditions)


def get_by_uuids(conn: Connection, uuids: Iterable[str]) -> list[ObjectSummary]:
    """Stored objects whose entryUUID is one of `uuids` (unknown ones are simply absent)."""
    return _summaries(conn, registry_object.c.entry_uuid, uuids)


def documents_by_lid(conn: Connection, lids: Iterable[str]) -> list[ObjectSummary]:
    """Every stored version of the DocumentEntries with these logical ids, by lid then version."""
    found = _summaries(conn, registry_object.c.lid, lids,
                       registry_object.c.kind == ObjectKind.DOCUMENT_ENTRY.value)
    return sorted(found, key=lambda s: (s.lid, s.version))


def find_by_lids(conn: Connection, kind: ObjectKind, lids: Iterable[str]) -> list[ObjectSummary]:
    """Every stored version of the objects of `kind` with these logical ids, by lid then version."""
    found = _summaries(conn, registry_object.c.lid, lids, registry_object.c.kind == kind.value)
    return sorted(found, key=lambda s: (s.lid, s.version))


def _association_select() -> Select:
    ro, a = registry_object, association
    return (select(a.c.entry_uuid, a.c.type, a.c.source, a.c.target, ro.c.status,
                   a.c.submission_set_status, a.c.previous_version, *_ORDER)
            .select_from(a.join(ro, ro.c.entry_uuid == a.c.entry_uuid)).order_by(*_ORDER))


def _association_summaries(rows: Iterable[Row]) -> list[AssociationSummary]:
    ordered = sorted(rows, key=lambda r: (r.submission_id, r.position))
    return [AssociationSummary(r.entry_uuid, r.type, r.source, r.target, r.status,
                               r.submission_set_status, r.previous_version) for r in ordered]


def get_associations(conn: Connection, uuids: Iterable[str]) -> list[AssociationSummary]:
    """The stored Associations whose entryUUID is one of `uuids` (others are simply absent)."""
    rows: list[Row] = []
    for chunk in _chunks(uuids):
        rows += conn.execute(_association_select().where(association.c.entry_uuid.in_(chunk))).all()
    return _association_summaries(rows)


def associations_touching(conn: Connection, uuids: Iterable[str],
                          types: Sequence[str] | None = None,
                          statuses: Sequence[str] | None = None) -> list[AssociationSummary]:
    """Associations whose source or target is one of `uuids`, optionally of some types/statuses."""
    ro, a = registry_object, association
    query = _association_select()
    if types is not None:
        query = query.where(a.c.type.in_(list(types)))
    if statuses is not None:
        query = query.where(ro.c.status.in_(list(statuses)))
    rows: dict[str, Row] = {}
    for chunk in _chunks(uuids):
        for row in conn.execute(query.where(or_(a.c.source.in_(chunk), a.c.target.in_(chunk)))):
            rows[row.entry_uuid] = row
    return _association_summaries(rows.values())


def xml_of(conn: Connection, uuids: Iterable[str]) -> list[tuple[str, bytes]]:
    """(entryUUID, canonical ebRIM XML) of the stored objects among `uuids`, in insert order."""
    ro = registry_object
    rows: list[Row] = []
    chunks = list(_chunks(uuids))
    for chunk in chunks:
        rows += conn.execute(select(ro.c.entry_uuid, ro.c.xml, *_ORDER)
                             .where(ro.c.entry_uuid.in_(chunk)).order_by(*_ORDER)).all()
    if len(chunks) > 1:
        rows.sort(key=lambda r: (r.submission_id, r.position))
    return [(row.entry_uuid, bytes(row.xml)) for row in rows]


def _stored_xml_columns() -> tuple:
    ro = registry_object
    return (ro.c.entry_uuid, ro.c.kind, ro.c.xml, ro.c.unique_id, ro.c.patient_id, ro.c.home,
            document_entry.c.repository_unique_id)


def _uuid_column() -> tuple:
    return (registry_object.c.entry_uuid,)


def _stored_xml(rows: Iterable[Row]) -> list[StoredXml]:
    return [StoredXml(entry_uuid, ObjectKind(kind), bytes(xml), unique_id, patient_id, home, repository_unique_id)
            for entry_uuid, kind, xml, unique_id, patient_id, home, repository_unique_id, *_ in rows]


def stored_xml(conn: Connection, uuids: Iterable[str]) -> list[StoredXml]:
    """The XML and naming columns of the stored objects among `uuids`, in insert order."""
    ro, de = registry_object, document_entry
    rows: list[Row] = []
    chunks = list(_chunks(uuids))
    for chunk in chunks:
        rows += conn.execute(select(*_stored_xml_columns(), *_ORDER)
                             .select_from(ro.outerjoin(de, de.c.entry_uuid == ro.c.entry_uuid))
                             .where(ro.c.entry_uuid.in_(chunk)).order_by(*_ORDER)).all()
    if len(chunks) > 1:
        rows.sort(key=lambda r: (r.submission_id, r.position))
    return _stored_xml(rows)


def documents_with_xml(conn: Connection, criteria: DocumentCriteria) -> list[StoredXml]:
    """The DocumentEntries matching `criteria` (`document_query`), with their XML, in one SELECT."""
    statement, parameters = _patient_statement(criteria, _stored_xml_columns)
    return _stored_xml(conn.execute(statement, parameters).all())


def document_uuids(conn: Connection, criteria: DocumentCriteria) -> list[str]:
    """The entryUUIDs of the DocumentEntries matching `criteria` (`document_query`)."""
    statement, parameters = _patient_statement(criteria, _uuid_column)
    return list(conn.execute(statement, parameters).scalars())


def _patient_statement(criteria: DocumentCriteria, columns: Callable[[], tuple]) -> tuple[Select, dict]:
    """`document_query(criteria)` selecting `columns`, and its parameters: the patient ids are
    bound parameters, so the statement is built once for every request that differs only in
    its patients (building a SELECT costs more than SQLite running it). Long patient lists
    (ITI-51) keep their one expanding IN, built per request."""
    patients = None if criteria.patient_ids is None else list(dict.fromkeys(criteria.patient_ids))
    if patients is not None and len(patients) > BOUND_PATIENTS:
        return document_query(criteria).with_only_columns(*columns()), {}
    shape = replace(criteria, patient_ids=None)
    try:
        statement = _cached_statement(shape, -1 if patients is None else len(patients), columns)
    except TypeError:  # criteria holding lists: not hashable, built for this request only
        statement = _cached_statement.__wrapped__(shape, -1 if patients is None else len(patients), columns)
    return statement, {f"patient_{i}": patient for i, patient in enumerate(patients or ())}


@lru_cache(maxsize=256)
def _cached_statement(shape: DocumentCriteria, patients: int, columns: Callable[[], tuple]) -> Select:
    names = None if patients < 0 else tuple(bindparam(f"patient_{i}") for i in range(patients))
    return document_query(replace(shape, patient_ids=names)).with_only_columns(*columns())


def patient_ids_of(conn: Connection, uuids: Iterable[str]) -> dict[str, str | None]:
    """entryUUID → patient id of the stored objects among `uuids` (None for associations)."""
    ro = registry_object
    found: dict[str, str | None] = {}
    for chunk in _chunks(uuids):
        query = select(ro.c.entry_uuid, ro.c.patient_id).where(ro.c.entry_uuid.in_(chunk))
        found.update({row.entry_uuid: row.patient_id for row in conn.execute(query)})
    return found


def uuids_of(conn: Connection, query: Select) -> list[str]:
    """Run a SELECT of entry UUIDs (from `document_query` and friends)."""
    return list(conn.execute(query).scalars())


__all__ = [
    "CHUNK", "AssociationSummary", "ObjectSummary", "StoredXml", "associations_touching", "documents_by_lid",
    "document_uuids", "documents_with_xml", "stored_xml",
    "find_by_lids", "find_by_unique_ids", "get_associations", "get_by_uuids", "patient_ids_of", "uuids_of", "xml_of",
    # re-exported from registry.store.filters for the stored-query module
    "CodeList", "DocumentCriteria", "TimeRange", "document_query", "folder_query",
    "submission_set_query",
]
