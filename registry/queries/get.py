"""The stored queries that name their objects (ITI TF-2 3.18.4.1.2.3.7.5 GetDocuments, .6
GetFolders, .7 GetAssociations, .8 GetDocumentsAndAssociations, .9 GetSubmissionSets).

Objects are named by entryUUID, uniqueId or (XDS Metadata Update) logical id; every status is
returned, as these queries have no status parameter. A uniqueId or logical id names every
stored version carrying it. Associations are returned only when Approved unless
$XDSAssociationStatus asks for other statuses (XDS Metadata Update supplement). Each query is
one or two indexed SELECTs.
"""
from __future__ import annotations

from sqlalchemy import Connection

from profiles.vocabulary import AssociationType, AvailabilityStatus
from registry.store import (
    AssociationSummary, ObjectKind, ObjectSummary, associations_touching, find_by_lids,
    find_by_unique_ids, get_by_uuids,
)

from .request import StoredQuery
from .results import Found, patients_of

DE = "$XDSDocumentEntry"
FOLDER = "$XDSFolder"
APPROVED_ONLY = (AvailabilityStatus.APPROVED.value,)
HAS_MEMBER = AssociationType.HAS_MEMBER.value


def association_statuses(query: StoredQuery) -> tuple[str, ...]:
    """$XDSAssociationStatus, Approved only when absent."""
    return query.any_of("$XDSAssociationStatus") or APPROVED_ONLY


def _named(conn: Connection, query: StoredQuery, kind: ObjectKind, prefix: str,
           uuid_name: str) -> list[ObjectSummary]:
    """The objects of `kind` named by `uuid_name`, `<prefix>UniqueId` or `<prefix>LogicalID`."""
    if (uuids := query.any_of(uuid_name)) is not None:
        return [s for s in get_by_uuids(conn, uuids) if s.kind is kind]
    if (unique_ids := query.any_of(prefix + "UniqueId")) is not None:
        return find_by_unique_ids(conn, kind, unique_ids)
    if (lids := query.any_of(prefix + "LogicalID")) is not None:
        return find_by_lids(conn, kind, lids)
    return []


def named_documents(conn: Connection, query: StoredQuery) -> list[ObjectSummary]:
    """DocumentEntries named by $XDSDocumentEntryEntryUUID / UniqueId / LogicalID."""
    return _named(conn, query, ObjectKind.DOCUMENT_ENTRY, DE, DE + "EntryUUID")


def named_folders(conn: Connection, query: StoredQuery) -> list[ObjectSummary]:
    """Folders named by $XDSFolderEntryUUID / UniqueId / LogicalID."""
    return _named(conn, query, ObjectKind.FOLDER, FOLDER, FOLDER + "EntryUUID")


def _ids(summaries) -> list[str]:
    return [s.entry_uuid for s in summaries]


def get_documents(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetDocuments: the DocumentEntries named."""
    documents = named_documents(conn, query)
    return Found(documents=_ids(documents), patient_ids=patients_of(documents))


def get_folders(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetFolders: the Folders named."""
    folders = named_folders(conn, query)
    return Found(folders=_ids(folders), patient_ids=patients_of(folders))


def get_associations(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetAssociations: Associations whose source or target is one of $uuid."""
    found = associations_touching(conn, query.any_of("$uuid"), statuses=association_statuses(query))
    return Found(associations=_ids(found))


def get_documents_and_associations(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetDocumentsAndAssociations: the DocumentEntries named and every Association whose source
    or target is one of them."""
    documents = named_documents(conn, query)
    found = associations_touching(conn, _ids(documents), statuses=association_statuses(query)) \
        if documents else []
    return Found(documents=_ids(documents), associations=_ids(found), patient_ids=patients_of(documents))


def get_submission_sets(conn: Connection, query: StoredQuery, limit: int) -> Found:
    """GetSubmissionSets: the SubmissionSets having one of $uuid (DocumentEntries, Folders) as a
    member, and those HasMember Associations."""
    members = set(query.any_of("$uuid"))
    links = [a for a in associations_touching(conn, members, types=(HAS_MEMBER,), statuses=APPROVED_ONLY)
             if a.target in members]
    sets = [s for s in get_by_uuids(conn, {a.source for a in links}) if s.kind is ObjectKind.SUBMISSION_SET]
    set_ids = {s.entry_uuid for s in sets}
    return Found(submission_sets=_ids(sets), associations=[a.entry_uuid for a in links if a.source in set_ids],
                 patient_ids=patients_of(sets))


def links_between(associations: list[AssociationSummary], sources: set[str],
                  targets: set[str]) -> list[str]:
    """entryUUIDs of the associations from one of `sources` to one of `targets`."""
    return [a.entry_uuid for a in associations if a.source in sources and a.target in targets]


__all__ = [
    "APPROVED_ONLY", "HAS_MEMBER", "association_statuses", "get_associations", "get_documents",
    "get_documents_and_associations", "get_folders", "get_submission_sets", "links_between",
    "named_documents", "named_folders",
]
