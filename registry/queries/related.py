"""The stored queries that follow Associations (ITI TF-2 3.18.4.1.2.3.7.4 GetAll, .10
GetSubmissionSetAndContents, .11 GetFolderAndContents, .12 GetFoldersForDocument, .13
GetRelatedDocuments).

Each runs a fixed handful of indexed SELECTs (named objects, their associations, the objects at
the other ends, a document filter), never one per object. Associations count only when Approved
unless $XDSAssociationStatus says otherwise (XDS Metadata Update supplement). Without
$XDSDocumentEntryType only stable DocumentEntries are returned (On-Demand Documents option).
"""
from __future__ import annotations

from sqlalchemy import Connection

from registry.store import (
    DocumentCriteria, ObjectKind, ObjectSummary, associations_touching, document_query,
    find_by_unique_ids, folder_query, get_associations, get_by_uuids, submission_set_query, uuids_of,
)

from .find import DE, entry_types
from .get import (
    APPROVED_ONLY, HAS_MEMBER, association_statuses, links_between, named_documents, named_folders,
)
from .request import StoredQuery
from .results import NOTHING, Found, patients_of

SS = "$XDSSubmissionSet"


def _ids(summaries) -> list[str]:
    return [s.entry_uuid for s in summaries]


def _of_kind(summaries: list[ObjectSummary], kind: ObjectKind) -> list[ObjectSummary]:
    return [s for s in summaries if s.kind is kind]


def filter_documents(conn: Connection, query: StoredQuery,
                     documents: list[ObjectSummary]) -> list[ObjectSummary]:
    """`documents` narrowed by $XDSDocumentEntryType, FormatCode and ConfidentialityCode."""
    types = entry_types(query)
    kept = [d for d in documents if d.object_type in types]
    formats, confidentiality = query.any_of(DE + "FormatCode"), query.all_of(DE + "ConfidentialityCode")
    if kept and (formats is not None or confidentiality):
        matching = set(uuids_of(conn, document_query(DocumentCriteria(
            entry_uuids=_ids(kept), format_codes=formats, confidentiality_codes=confidentiality))))
        kept = [d for d in kept if d.entry_uuid in matching]
    return kept


def get_all(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetAll: the patient's SubmissionSets, DocumentEntries and Folders of the statuses asked
    (documents also by format, confidentiality and type), and every Association whose source or
    target is one of them."""
    patient = (query.one("$patientId"),)
    documents = uuids_of(conn, document_query(DocumentCriteria(
        patient_ids=patient, statuses=query.any_of(DE + "Status"), object_types=entry_types(query),
        format_codes=query.any_of(DE + "FormatCode"),
        confidentiality_codes=query.all_of(DE + "ConfidentialityCode"), limit=limit + 1)))
    sets = uuids_of(conn, submission_set_query(patient_ids=patient, statuses=query.any_of(SS + "Status"),
                                               limit=limit + 1))
    folders = uuids_of(conn, folder_query(patient_ids=patient, statuses=query.any_of("$XDSFolderStatus"),
                                          limit=limit + 1))
    objects = [*sets, *documents, *folders]
    if not objects:
        return NOTHING
    links = [] if len(objects) > limit else associations_touching(conn, objects, statuses=APPROVED_ONLY)
    return Found(sets, documents, folders, _ids(links), frozenset(patient))


def _named_submission_set(conn: Connection, query: StoredQuery) -> list[ObjectSummary]:
    if (uuid := query.one(SS + "EntryUUID")) is not None:
        return _of_kind(get_by_uuids(conn, [uuid]), ObjectKind.SUBMISSION_SET)
    return find_by_unique_ids(conn, ObjectKind.SUBMISSION_SET, [query.one(SS + "UniqueId")])


def get_submission_set_and_contents(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetSubmissionSetAndContents: the SubmissionSet, its member DocumentEntries (filtered) and
    Folders, the member Associations between returned objects, and the SubmissionSet's HasMember
    Associations to everything returned."""
    sets = _named_submission_set(conn, query)
    if not sets:
        return NOTHING
    set_ids = set(_ids(sets))
    statuses = association_statuses(query)
    links = [a for a in associations_touching(conn, set_ids, types=(HAS_MEMBER,), statuses=statuses)
             if a.source in set_ids]
    members = get_by_uuids(conn, [a.target for a in links])
    documents = filter_documents(conn, query, _of_kind(members, ObjectKind.DOCUMENT_ENTRY))
    folders = _of_kind(members, ObjectKind.FOLDER)
    returned = set_ids | set(_ids(documents)) | set(_ids(folders))
    inner = [a for a in get_associations(conn, _ids(_of_kind(members, ObjectKind.ASSOCIATION)))
             if a.status in statuses and a.source in returned and a.target in returned]
    returned |= {a.entry_uuid for a in inner}
    outer = [a.entry_uuid for a in links if a.target in returned]
    return Found(_ids(sets), _ids(documents), _ids(folders), outer + _ids(inner),
                 patients_of([*sets, *documents, *folders]))


def get_folder_and_contents(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetFolderAndContents: the Folder, its member DocumentEntries (filtered) and the Folder's
    HasMember Associations to them."""
    folders = named_folders(conn, query)
    if not folders:
        return NOTHING
    folder_ids = set(_ids(folders))
    links = [a for a in associations_touching(conn, folder_ids, types=(HAS_MEMBER,),
                                              statuses=association_statuses(query))
             if a.source in folder_ids]
    members = _of_kind(get_by_uuids(conn, [a.target for a in links]), ObjectKind.DOCUMENT_ENTRY)
    documents = filter_documents(conn, query, members)
    return Found(folders=_ids(folders), documents=_ids(documents),
                 associations=links_between(links, folder_ids, set(_ids(documents))),
                 patient_ids=patients_of([*folders, *documents]))


def get_folders_for_document(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetFoldersForDocument: the Folders having the DocumentEntry as a member (HasMember)."""
    documents = set(_ids(named_documents(conn, query)))
    links = [a for a in associations_touching(conn, documents, types=(HAS_MEMBER,),
                                              statuses=association_statuses(query))
             if a.target in documents]
    folders = _of_kind(get_by_uuids(conn, [a.source for a in links]), ObjectKind.FOLDER)
    return Found(folders=_ids(folders), patient_ids=patients_of(folders))


def get_related_documents(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetRelatedDocuments: the DocumentEntries joined to the one named by an Association of one
    of $AssociationTypes, in either direction, with those Associations and the named one itself;
    nothing when it has no such relative."""
    named = named_documents(conn, query)
    named_ids = set(_ids(named))
    links = associations_touching(conn, named_ids, types=query.any_of("$AssociationTypes"),
                                  statuses=association_statuses(query))
    others = {a.target if a.source in named_ids else a.source for a in links} - named_ids
    types = entry_types(query)
    related = [d for d in _of_kind(get_by_uuids(conn, others), ObjectKind.DOCUMENT_ENTRY)
               if d.object_type in types]
    if not related:
        return NOTHING
    related_ids = set(_ids(related))
    kept = [a.entry_uuid for a in links if {a.source, a.target} <= named_ids | related_ids]
    return Found(documents=_ids(named) + _ids(related), associations=kept,
                 patient_ids=patients_of([*named, *related]))


__all__ = [
    "filter_documents", "get_all", "get_folder_and_contents", "get_folders_for_document",
    "get_related_documents", "get_submission_set_and_contents",
]
