"""What a stored query found, and the query:AdhocQueryResponse answering it (ITI TF-2 3.18.4.1.3
Expected Actions; ebRS 3.0 query.xsd).

- LeafClass: each object's canonical ebRIM XML as the registry stored it (`xml_of`), never
  re-encoded; ObjectRef: one rim:ObjectRef per object, carrying only its id.
- Objects are answered SubmissionSets, DocumentEntries, Folders, then Associations, each kind in
  the order the registry stored them, so the same query over the same registry gives the same
  bytes.
- More objects than `result_limit` → Failure with XDSTooManyResults and no objects (ITI TF-3
  Table 4.2.4.1-2: "the request cannot be satisfied due to ... a response that is too large").
- LeafClass objects of more than one patient → Failure with XDSResultNotSinglePatient and no
  objects (ITI TF-3 Table 4.2.4.1-2). ObjectRefs disclose no patient data and are not restricted;
  ITI-51 (multi-patient queries) is exempt by definition.
- `home` (the homeCommunityId attribute of ebRIM objects and ObjectRefs): set on every returned
  object and ObjectRef when the caller configures a home community id, as a community answering
  through XCA must (ITI TF-2 3.38.4.1.3); left out otherwise, as a plain XDS registry may.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from lxml import etree
from sqlalchemy import Connection

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response
from profiles.vocabulary import RIM
from registry.store import xml_of

from .request import StoredQuery

_OBJECT_REF = f"{{{RIM}}}ObjectRef"
_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"


@dataclass(frozen=True, slots=True)
class Found:
    """The entryUUIDs a stored query selected, by kind, and the patients of those objects."""

    submission_sets: Sequence[str] = ()
    documents: Sequence[str] = ()
    folders: Sequence[str] = ()
    associations: Sequence[str] = ()
    patient_ids: frozenset[str] = frozenset()

    def uuids(self) -> list[str]:
        """Every selected entryUUID once, in answer order."""
        return list(dict.fromkeys((*self.submission_sets, *self.documents, *self.folders,
                                   *self.associations)))

    @property
    def count(self) -> int:
        return len(self.uuids())


NOTHING = Found()


def patients_of(summaries: Iterable) -> frozenset[str]:
    """The patient ids of ObjectSummaries (associations have none)."""
    return frozenset(s.patient_id for s in summaries if s.patient_id)


def answer(conn: Connection, query: StoredQuery, found: Found, *, result_limit: int,
           home: str | None, single_patient: bool = True,
           warnings: Sequence[Issue] = ()) -> etree._Element:
    """The AdhocQueryResponse for `found`, or the Failure a limit or the patient rule calls for."""
    uuids = found.uuids()
    if len(uuids) > result_limit:
        return _failure(ErrorCode.TOO_MANY_RESULTS, f"{query.name} selects more than {result_limit} "
                        "objects; narrow the query", warnings)
    if query.leaf_class and single_patient and len(found.patient_ids) > 1:
        return _failure(ErrorCode.RESULT_NOT_SINGLE_PATIENT, f"{query.name} would return metadata of "
                        f"{len(found.patient_ids)} patients; ask for ObjectRefs or query per patient",
                        warnings)
    if query.leaf_class:
        return _leaf_class(conn, uuids, home, warnings)
    return _object_refs(uuids, home, warnings)


def _failure(code: ErrorCode, context: str, warnings: Sequence[Issue]) -> etree._Element:
    return adhoc_query_response([*warnings, Issue(code, context)], [], status=Status.FAILURE)


def _leaf_class(conn: Connection, uuids: list[str], home: str | None,
                warnings: Sequence[Issue]) -> etree._Element:
    stored = dict(xml_of(conn, uuids))
    response = adhoc_query_response(warnings, [stored[u] for u in uuids if u in stored],
                                     status=Status.SUCCESS)
    if home:
        for obj in response.find(_OBJECT_LIST):
            obj.set("home", home)
    return response


def _object_refs(uuids: list[str], home: str | None, warnings: Sequence[Issue]) -> etree._Element:
    refs = []
    for uuid in uuids:
        ref = etree.Element(_OBJECT_REF, nsmap={"rim": RIM})
        ref.set("id", uuid)
        if home:
            ref.set("home", home)
        refs.append(ref)
    return adhoc_query_response(warnings, refs, status=Status.SUCCESS)


__all__ = ["NOTHING", "Found", "answer", "patients_of"]
