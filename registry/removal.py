"""Remove Metadata (ITI-62; RMD supplement 3.62.4.1.2 message semantics, 3.62.4.1.3 expected
actions): which stored objects an lcm:RemoveObjectsRequest names, and whether removing them
leaves the registry consistent.

The request names the objects to remove — DocumentEntries, SubmissionSets, Folders and
Associations — by entryUUID, one rim:ObjectRef each in its rim:ObjectRefList. The removal
is all or nothing: any issue below answers Failure and removes nothing.

| problem                                                             | error code                    |
|---------------------------------------------------------------------|-------------------------------|
| not an lcm:RemoveObjectsRequest; no ObjectRef; an AdhocQuery; a     | XDSRegistryError              |
| deletionScope other than DeleteAll (ebRS 3.0 lcm.xsd; RMD: the      |                               |
| objects are named by ObjectRefList only)                            |                               |
| an ObjectRef names no object of this registry                       | UnresolvedReferenceException  |
| an object to remove is the source or target of an Association that  | ReferencesExistException      |
| is not removed with it (it would dangle)                            |                               |
| an Association to remove is the last one referencing an object that | XDSUnreferencedObjectException|
| stays (a SubmissionSet left without members, a DocumentEntry or     |                               |
| Folder left outside every SubmissionSet)                            |                               |

An unknown reference is reported alone: the other two checks need every object to exist.
Every other problem found is reported, each naming the object (`location`).
"""
from __future__ import annotations

from lxml import etree
from sqlalchemy import Connection

from profiles.errors import ErrorCode, Issue
from profiles.vocabulary import LCM, RIM
from registry.store import ObjectKind, ObjectSummary, associations_touching, get_associations, get_by_uuids

REMOVE_OBJECTS_REQUEST = f"{{{LCM}}}RemoveObjectsRequest"
DELETE_ALL = "urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteAll"
_OBJECT_REFS = f"{{{RIM}}}ObjectRefList/{{{RIM}}}ObjectRef"
_KIND_NAMES = {ObjectKind.DOCUMENT_ENTRY: "DocumentEntry", ObjectKind.SUBMISSION_SET: "SubmissionSet",
               ObjectKind.FOLDER: "Folder", ObjectKind.ASSOCIATION: "Association"}


def requested_removals(request: etree._Element) -> tuple[list[str], list[Issue]]:
    """The entryUUIDs an lcm:RemoveObjectsRequest names (each once, in order) and the issues."""
    if request.tag != REMOVE_OBJECTS_REQUEST:
        return [], [_error(f"Remove Metadata expects lcm:RemoveObjectsRequest in the SOAP Body, found {request.tag}")]
    issues = []
    if request.find(f"{{{RIM}}}AdhocQuery") is not None:
        issues.append(_error("Remove Metadata names the objects in rim:ObjectRefList; rim:AdhocQuery is not "
                             "allowed"))
    scope = request.get("deletionScope")
    if scope is not None and scope != DELETE_ALL:
        issues.append(_error(f"deletionScope {scope!r} is not supported; omit it or use {DELETE_ALL}"))
    ids = list(dict.fromkeys((ref.get("id") or "").strip() for ref in request.iterfind(_OBJECT_REFS)))
    if not ids:
        issues.append(_error("rim:ObjectRefList names no object to remove (one rim:ObjectRef per object)"))
    return ids, issues


def removal_issues(conn: Connection, ids: list[str]) -> list[Issue]:
    """What keeps the objects `ids` from being removed from the registry as it is now."""
    stored = {summary.entry_uuid: summary for summary in get_by_uuids(conn, ids)}
    unknown = [Issue(ErrorCode.UNRESOLVED_REFERENCE, f"{uuid} is not an object of this registry", location=uuid)
               for uuid in ids if uuid not in stored]
    if unknown:
        return unknown
    removing = set(ids)
    return [*_dangling_references(conn, stored, removing), *_left_unreferenced(conn, stored, removing)]


def _dangling_references(conn: Connection, stored: dict[str, ObjectSummary], removing: set[str]) -> list[Issue]:
    issues = []
    for link in associations_touching(conn, removing):
        if link.entry_uuid in removing:
            continue
        for end in dict.fromkeys(e for e in (link.source, link.target) if e in removing):
            issues.append(Issue(ErrorCode.REFERENCES_EXIST,
                                f"{_name(stored[end])} is referenced by Association {link.entry_uuid} "
                                f"({_short(link.type)}), which is not removed with it", location=end))
    return issues


def _left_unreferenced(conn: Connection, stored: dict[str, ObjectSummary], removing: set[str]) -> list[Issue]:
    removed_links = [uuid for uuid, s in stored.items() if s.kind is ObjectKind.ASSOCIATION]
    ends = {end for link in get_associations(conn, removed_links) for end in (link.source, link.target)} - removing
    if not ends:
        return []
    still_referenced = {end for link in associations_touching(conn, ends) if link.entry_uuid not in removing
                        for end in (link.source, link.target)}
    return [Issue(ErrorCode.UNREFERENCED_OBJECT, f"{_name(kept)} would be left without any Association "
                  "referencing it; remove it too or keep one of its Associations", location=kept.entry_uuid)
            for kept in get_by_uuids(conn, ends) if kept.entry_uuid not in still_referenced]


def _name(summary: ObjectSummary) -> str:
    return f"{_KIND_NAMES[summary.kind]} {summary.entry_uuid}"


def _short(urn: str) -> str:
    return urn.rsplit(":", 1)[-1]


def _error(context: str) -> Issue:
    return Issue(ErrorCode.REGISTRY_ERROR, context)


__all__ = ["DELETE_ALL", "REMOVE_OBJECTS_REQUEST", "removal_issues", "requested_removals"]
