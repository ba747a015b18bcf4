"""The filtering stored queries: one SELECT each over indexed columns (ITI TF-2
3.18.4.1.2.3.7.1 FindDocuments, .2 FindSubmissionSets, .3 FindFolders, .14
FindDocumentsByReferenceId; ITI TF-2 3.51.4.1.2 FindDocumentsForMultiplePatients and
FindFoldersForMultiplePatients).

Parameter semantics (3.18.4.1.2.3.5, 3.18.4.1.2.3.7.1 notes), carried out by
`registry.store.filters`:
- a parameter with several values matches any of them (OR); parameters are ANDed; the event
  code list, confidentiality code, folder code list and reference id list may come in several
  Slots, each an OR-list, all of which must match (AND);
- `…TimeFrom <= value < …TimeTo`; an object without the attribute does not match a range on it;
- author person values are patterns with `%` and `_` wildcards (3.18.4.1.2.3.3);
- without $XDSDocumentEntryType only stable DocumentEntries are found (On-Demand Documents
  option: consumers that do not ask for on-demand entries do not get them).

Each function asks the database for at most `limit + 1` objects: the caller turns more than
`limit` into XDSTooManyResults without reading the rest. A LeafClass FindDocuments reads the
DocumentEntries' stored XML in the same SELECT (`Found.stored`): one statement per answer.
"""
from __future__ import annotations

from sqlalchemy import Connection

from profiles.vocabulary import ObjectType
from registry.store import (
    DocumentCriteria, TimeRange, document_uuids, documents_with_xml, folder_query, submission_set_query, uuids_of,
)

from .request import StoredQuery
from .results import Found

DE = "$XDSDocumentEntry"
SS = "$XDSSubmissionSet"
FOLDER = "$XDSFolder"
STABLE_ONLY = (ObjectType.STABLE_DOCUMENT.value,)


def time_range(query: StoredQuery, prefix: str) -> TimeRange | None:
    """`<prefix>From` / `<prefix>To` as a TimeRange; None when neither is given."""
    start, end = query.one(prefix + "From"), query.one(prefix + "To")
    return None if start is None and end is None else TimeRange(start, end)


def entry_types(query: StoredQuery) -> tuple[str, ...]:
    """$XDSDocumentEntryType, stable DocumentEntries only when absent."""
    return query.any_of(DE + "Type") or STABLE_ONLY


def document_criteria(query: StoredQuery, **fixed) -> DocumentCriteria:
    """The DocumentEntry filters of FindDocuments (3.18.4.1.2.3.7.1) that `query` carries."""
    return DocumentCriteria(
        statuses=query.any_of(DE + "Status"),
        object_types=entry_types(query),
        class_codes=query.any_of(DE + "ClassCode"),
        type_codes=query.any_of(DE + "TypeCode"),
        practice_setting_codes=query.any_of(DE + "PracticeSettingCode"),
        healthcare_facility_type_codes=query.any_of(DE + "HealthcareFacilityTypeCode"),
        format_codes=query.any_of(DE + "FormatCode"),
        event_codes=query.all_of(DE + "EventCodeList"),
        confidentiality_codes=query.all_of(DE + "ConfidentialityCode"),
        creation_time=time_range(query, DE + "CreationTime"),
        service_start_time=time_range(query, DE + "ServiceStartTime"),
        service_stop_time=time_range(query, DE + "ServiceStopTime"),
        author_persons=query.any_of(DE + "AuthorPerson"),
        reference_ids=query.all_of(DE + "ReferenceIdList"),
        **fixed,
    )


def _patients(query: StoredQuery, name: str) -> tuple[str, ...] | None:
    return query.any_of(name)


def find_documents(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """FindDocuments, FindDocumentsByReferenceId and FindDocumentsForMultiplePatients."""
    patients = _patients(query, DE + "PatientId")
    criteria = document_criteria(query, patient_ids=patients, limit=limit + 1)
    stored = documents_with_xml(conn, criteria) if query.leaf_class else None
    found = [obj.entry_uuid for obj in stored] if stored is not None else document_uuids(conn, criteria)
    return Found(documents=found, patient_ids=frozenset(patients or ()) if found else frozenset(), stored=stored)


def find_submission_sets(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """FindSubmissionSets (3.18.4.1.2.3.7.2)."""
    patients = _patients(query, SS + "PatientId")
    author = query.one(SS + "AuthorPerson")
    found = uuids_of(conn, submission_set_query(
        patient_ids=patients, statuses=query.any_of(SS + "Status"),
        source_ids=query.any_of(SS + "SourceId"),
        submission_time=time_range(query, SS + "SubmissionTime"),
        author_persons=None if author is None else (author,),
        content_type_codes=query.any_of(SS + "ContentType"), limit=limit + 1))
    return Found(submission_sets=found, patient_ids=frozenset(patients or ()) if found else frozenset())


def find_folders(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """FindFolders (3.18.4.1.2.3.7.3) and FindFoldersForMultiplePatients."""
    patients = _patients(query, FOLDER + "PatientId")
    found = uuids_of(conn, folder_query(
        patient_ids=patients, statuses=query.any_of(FOLDER + "Status"),
        last_update_time=time_range(query, FOLDER + "LastUpdateTime"),
        codes=query.all_of(FOLDER + "CodeList"), limit=limit + 1))
    return Found(folders=found, patient_ids=frozenset(patients or ()) if found else frozenset())


__all__ = ["document_criteria", "entry_types", "find_documents", "find_folders",
           "find_submission_sets", "time_range"]
