"""What a stored query found, screened by the deployment's access policy (profiles.access)
before it is answered.

The registry decides nothing here: it hands the DocumentEntries the query found (decoded from
their stored XML) and the patients the query names to the `DocumentAccess` it was given, and
leaves out what the verdict does not allow — the DocumentEntries and every Association whose
source or target is one of them — as if the registry did not hold them (ITI TF-2 3.18.4.1.3:
a registry may answer less than it holds because of local policy). The patients of what is
left are counted again, so a hidden document of another patient cannot make the answer
XDSResultNotSinglePatient. A refused request answers nothing.

The patients the verdict judges the request by are those the query names — and, for a
Multi-Patient Stored Query (ITI-51), the patients of the Folders it found too
(`answered_patients`): the policy judges DocumentEntries one by one, but not Folders, so a
FindFoldersForMultiplePatients naming no patient, asked by a subject confined to one patient
(the policy's patient rule), is refused when it would answer another patient's Folder rather
than answering it (ITI TF-2 3.51.5: this query needs access control).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from profiles.access import DocumentAccess, Verdict, decode_entries
from registry.store import get_associations, patient_ids_of, xml_of

from .results import NOTHING, Found


def screen(conn: Connection, found: Found, patient_ids: Sequence[str], access: DocumentAccess,
           context: Mapping[str, Any]) -> tuple[Found, Verdict]:
    """`found` without what `access` does not allow, and the verdict; `patient_ids` are the
    patients the request is judged by (see the module docstring)."""
    entries = decode_entries(_documents_xml(conn, found)) if found.documents else []
    verdict = access.visible(context, entries, patient_ids)
    if verdict.refusal is not None:
        return NOTHING, verdict
    hidden = set(found.documents) - verdict.allowed
    return (_without(conn, found, hidden) if hidden else found), verdict


def _documents_xml(conn: Connection, found: Found) -> list[bytes]:
    """The stored XML of the DocumentEntries found: what the query read already, else read now."""
    if found.stored is not None:
        documents = set(found.documents)
        return [obj.xml for obj in found.stored if obj.entry_uuid in documents]
    return [xml for _, xml in xml_of(conn, found.documents)]


def answered_patients(conn: Connection, found: Found) -> list[str]:
    """The patients of the Folders `found` holds (ITI-51; see the module docstring)."""
    return sorted({p for p in patient_ids_of(conn, found.folders).values() if p}) if found.folders else []


def _without(conn: Connection, found: Found, hidden: set[str]) -> Found:
    documents = [uuid for uuid in found.documents if uuid not in hidden]
    kept_links = {a.entry_uuid for a in get_associations(conn, found.associations)
                  if a.source not in hidden and a.target not in hidden}
    objects = [*found.submission_sets, *documents, *found.folders]
    patients = frozenset(p for p in patient_ids_of(conn, objects).values() if p) if objects else frozenset()
    associations = [uuid for uuid in found.associations if uuid in kept_links]
    kept = {*found.submission_sets, *documents, *found.folders, *associations}
    stored = None if found.stored is None else [obj for obj in found.stored if obj.entry_uuid in kept]
    return Found(found.submission_sets, documents, found.folders, associations, patients, stored)


__all__ = ["answered_patients", "screen"]
