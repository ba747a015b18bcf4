"""Writing accepted submissions to the registry store (ITI TF-2 3.42.4.1.3: the registry
stores a submission as a whole or not at all; RPLC and XFRM_RPLC deprecate their targets,
ITI TF-3 4.2.2.2).

The caller owns the transaction (`write_transaction` or `engine.begin()`), so a submission's
insert and the deprecations it causes commit together or not at all. Each table is filled with
one executemany batch, never one statement per object. The statements are built once, at
import: SQLAlchemy then finds their compiled form in its cache by key instead of building a new
statement object per call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, bindparam, select

from profiles.model import (
    Association, Author, Code, DocumentEntry, Folder, RegistryObject, SubmissionSet,
)

from .schema import (
    AuthorAttribute, CodeAttribute, ObjectKind, association, author_value, document_entry, folder,
    object_code, reference_id, registry_object, submission_log, submission_set,
)
from .times import sortable_time


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object to store: its final `urn:uuid:` id, status and lid set, and its canonical XML."""

    obj: RegistryObject
    xml: bytes


_KINDS: dict[type, ObjectKind] = {
    DocumentEntry: ObjectKind.DOCUMENT_ENTRY, SubmissionSet: ObjectKind.SUBMISSION_SET,
    Folder: ObjectKind.FOLDER, Association: ObjectKind.ASSOCIATION,
}


def kind_of(obj: RegistryObject) -> ObjectKind:
    return _KINDS[type(obj)]


class _Batches:
    """Rows per table, gathered before one executemany per table."""

    def __init__(self) -> None:
        self.rows: dict[object, list[dict]] = {}

    def add(self, table, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)

    def extend(self, table, rows: Iterable[dict]) -> None:
        for row in rows:
            self.add(table, row)


#: registry_object first: every other table refers to it
_WRITE_ORDER = (registry_object, document_entry, submission_set, folder, association,
                object_code, author_value, reference_id)
_INSERTS = {table: table.insert() for table in _WRITE_ORDER}
_LOG_INSERT = submission_log.insert()
_SELECT_XML = select(registry_object.c.entry_uuid, registry_object.c.xml).where(
    registry_object.c.entry_uuid.in_(bindparam("uuids", expanding=True)))
_SET_STATUS = (registry_object.update().where(registry_object.c.entry_uuid == bindparam("uuid"))
               .values(status=bindparam("new_status"), xml=bindparam("new_xml")))


def store_submission(conn: Connection, objects: Sequence[StoredObject]) -> int:
    """Insert every object of one submission in the caller's transaction; returns its log id."""
    logged = conn.execute(_LOG_INSERT, {"stored_at": _now()})
    submission_id = logged.inserted_primary_key[0]
    batches = _Batches()
    for position, stored in enumerate(objects):
        batches.add(registry_object, _object_row(stored, submission_id, position))
        _add_details(batches, stored.obj)
    for table in _WRITE_ORDER:
        if rows := batches.rows.get(table):
            conn.execute(_INSERTS[table], rows)
    return submission_id


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


def _object_row(stored: StoredObject, submission_id: int, position: int) -> dict:
    obj = stored.obj
    if not obj.status:
        raise ValueError(f"{obj.id}: the registry assigns a status before storing")
    return {
        "entry_uuid": obj.id, "kind": kind_of(obj).value, "lid": obj.lid or obj.id,
        "status": obj.status, "version": _version(obj.version_name),
        "unique_id": getattr(obj, "unique_id", None),
        "patient_id": getattr(obj, "patient_id", None),
        "home": obj.home, "xml": stored.xml, "submission_id": submission_id, "position": position,
    }


def _version(version_name: str | None) -> int:
    return int(version_name) if version_name and version_name.isdigit() else 1


def _add_details(batches: _Batches, obj: RegistryObject) -> None:
    match obj:
        case DocumentEntry():
            batches.add(document_entry, _document_row(obj))
            batches.extend(object_code, _code_rows(obj.id, CodeAttribute.EVENT_CODE,
                                                   obj.event_codes))
            batches.extend(object_code, _code_rows(obj.id, CodeAttribute.CONFIDENTIALITY_CODE,
                                                   obj.confidentiality_codes))
            batches.extend(author_value, _author_rows(obj.id, obj.authors))
            batches.extend(reference_id, ({"entry_uuid": obj.id, "position": i, "value": value}
                                          for i, value in enumerate(obj.reference_ids)))
        case SubmissionSet():
            batches.add(submission_set, {
                "entry_uuid": obj.id, "submission_time": sortable_time(obj.submission_time),
                "source_id": obj.source_id, **_code_pair("content_type", obj.content_type_code)})
            batches.extend(author_value, _author_rows(obj.id, obj.authors))
        case Folder():
            batches.add(folder, {"entry_uuid": obj.id,
                                 "last_update_time": sortable_time(obj.last_update_time)})
            batches.extend(object_code, _code_rows(obj.id, CodeAttribute.FOLDER_CODE, obj.codes))
        case Association():
            batches.add(association, {
                "entry_uuid": obj.id, "type": obj.association_type, "source": obj.source,
                "target": obj.target, "submission_set_status": obj.submission_set_status,
                "previous_version": obj.previous_version})


def _document_row(doc: DocumentEntry) -> dict:
    return {
        "entry_uuid": doc.id, "object_type": doc.object_type,
        **_code_pair("class", doc.class_code), **_code_pair("type", doc.type_code),
        **_code_pair("format", doc.format_code),
        **_code_pair("facility_type", doc.healthcare_facility_type_code),
        **_code_pair("practice_setting", doc.practice_setting_code),
        "creation_time": sortable_time(doc.creation_time),
        "service_start_time": sortable_time(doc.service_start_time),
        "service_stop_time": sortable_time(doc.service_stop_time),
        "hash": doc.hash.lower() if doc.hash else None,
        "size": int(doc.size) if doc.size and doc.size.isdigit() else None,
        "repository_unique_id": doc.repository_unique_id,
        "availability": doc.document_availability, "mime_type": doc.mime_type,
    }


_CODE_COLUMNS = {prefix: (f"{prefix}_code", f"{prefix}_scheme")
                 for prefix in ("class", "type", "format", "facility_type", "practice_setting", "content_type")}


def _code_pair(prefix: str, code: Code | None) -> dict:
    code_column, scheme_column = _CODE_COLUMNS[prefix]
    if code is None:
        return {code_column: None, scheme_column: None}
    return {code_column: code.code, scheme_column: code.scheme}


def _code_rows(entry_uuid: str, attribute: CodeAttribute, codes: Sequence[Code]) -> Iterable[dict]:
    return ({"entry_uuid": entry_uuid, "attribute": attribute.value, "position": i,
             "code": code.code, "scheme": code.scheme} for i, code in enumerate(codes))


def _author_rows(entry_uuid: str, authors: Sequence[Author]) -> Iterable[dict]:
    for index, author in enumerate(authors):
        values = {
            AuthorAttribute.PERSON: (author.person,) if author.person else (),
            AuthorAttribute.INSTITUTION: author.institutions,
            AuthorAttribute.ROLE: author.roles,
            AuthorAttribute.SPECIALTY: author.specialties,
            AuthorAttribute.TELECOMMUNICATION: author.telecommunications,
        }
        for attribute, texts in values.items():
            for position, text in enumerate(texts):
                yield {"entry_uuid": entry_uuid, "author": index, "attribute": attribute.value,
                       "position": position, "value": text, "value_folded": text.lower()}


def set_status(conn: Connection, entry_uuids: Iterable[str], status: str,
               xml: Mapping[str, bytes] | None = None) -> int:
    """Set the availability status of stored objects, in their stored XML too; returns how many.

    `xml` gives re-encoded XML for some or all of them; for the others the status attribute of
    the stored XML's root element is rewritten in place.
    """
    uuids = list(dict.fromkeys(entry_uuids))
    if not uuids:
        return 0
    xml = dict(xml or {})
    missing = [u for u in uuids if u not in xml]
    if missing:
        stored = conn.execute(_SELECT_XML, {"uuids": missing})
        xml.update({uuid: with_root_status(data, status) for uuid, data in stored})
    rows = [{"uuid": uuid, "new_status": status, "new_xml": xml[uuid]}
            for uuid in uuids if uuid in xml]
    if rows:
        conn.execute(_SET_STATUS, rows)
    return len(rows)


_ROOT_TAG = re.compile(rb"<(?![?!])[^>]*>")
_STATUS_ATTRIBUTE = re.compile(rb"(\sstatus\s*=\s*)([\"'])[^\"']*\2")


def with_root_status(xml: bytes, status: str) -> bytes:
    """`xml` with the status attribute of its root element set to `status`."""
    root = _ROOT_TAG.search(xml)
    if root is None:
        raise ValueError("stored XML has no root element")
    tag = root.group(0)
    new_tag, count = _STATUS_ATTRIBUTE.subn(lambda m: m.group(1) + m.group(2) + status.encode()
                                            + m.group(2), tag, count=1)
    if count == 0:
        new_tag = tag[:-2] + b' status="' + status.encode() + b'"/>' if tag.endswith(b"/>") \
            else tag[:-1] + b' status="' + status.encode() + b'">'
    return xml[:root.start()] + new_tag + xml[root.end():]
