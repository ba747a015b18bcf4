"""Deleting stored objects from the registry store (ITI-62 Remove Metadata, RMD supplement
3.62.4.1.3: the registry removes the metadata it was asked to remove).

The caller owns the transaction (`write_transaction`) and has checked that the removal leaves
the registry consistent (registry.removal). Every row of an object goes: its attribute row
(`document_entry`, `submission_set`, `folder`, `association`), its child rows (`object_code`,
`author_value`, `reference_id`), its `registry_object` row with the stored XML, and a
`submission_log` row that no longer orders any object. The child tables are deleted
explicitly, not left to ON DELETE CASCADE, so the outcome does not depend on a database's
foreign-key setting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Connection, delete, exists, select

from .reader import _chunks
from .schema import (
    ObjectKind, association, author_value, document_entry, folder, object_code, reference_id, registry_object,
    submission_log, submission_set,
)

#: tables holding rows owned by one object (`entry_uuid`), deleted before `registry_object`
_OWNED = (object_code, author_value, reference_id, document_entry, submission_set, folder, association)


#: key of the `Removed` an ITI-62 leaves in the request's context (registry.service.remove_metadata)
REMOVED_KEY = "registry.removed"


@dataclass(frozen=True)
class Removed:
    """What a removal took away, for the audit record (RMD: the patient and the entries)."""

    entry_uuids: tuple[str, ...] = ()
    patient_ids: tuple[str, ...] = ()
    document_unique_ids: tuple[str, ...] = ()


def removed_summary(conn: Connection, entry_uuids: Iterable[str]) -> Removed:
    """The patients and DocumentEntry uniqueIds of the objects about to be removed."""
    ids, patients, documents = [], [], []
    for chunk in _chunks(entry_uuids):
        rows = conn.execute(select(registry_object.c.entry_uuid, registry_object.c.kind,
                                   registry_object.c.patient_id, registry_object.c.unique_id)
                            .where(registry_object.c.entry_uuid.in_(chunk)))
        for entry_uuid, kind, patient_id, unique_id in rows:
            ids.append(entry_uuid)
            if patient_id and patient_id not in patients:
                patients.append(patient_id)
            if kind == ObjectKind.DOCUMENT_ENTRY.value and unique_id:
                documents.append(unique_id)
    return Removed(tuple(ids), tuple(patients), tuple(documents))


def remove_objects(conn: Connection, entry_uuids: Iterable[str]) -> int:
    """Delete the stored objects with these entryUUIDs, every row of them; returns how many."""
    removed = 0
    for chunk in _chunks(entry_uuids):
        submissions = set(conn.execute(select(registry_object.c.submission_id)
                                       .where(registry_object.c.entry_uuid.in_(chunk))).scalars())
        for table in _OWNED:
            conn.execute(delete(table).where(table.c.entry_uuid.in_(chunk)))
        removed += conn.execute(delete(registry_object).where(registry_object.c.entry_uuid.in_(chunk))).rowcount
        _forget_empty_submissions(conn, submissions)
    return removed


def _forget_empty_submissions(conn: Connection, submission_ids: set[int]) -> None:
    if not submission_ids:
        return
    still_used = exists().where(registry_object.c.submission_id == submission_log.c.id)
    conn.execute(delete(submission_log).where(submission_log.c.id.in_(sorted(submission_ids)), ~still_used))


__all__ = ["REMOVED_KEY", "Removed", "remove_objects", "removed_summary"]
