"""ITI-38 and ITI-39 answers screened by the deployment's access policy (profiles.access).

The gateway decides nothing here; it asks the `DocumentAccess` it was given, with the request's
context, and leaves out what the verdict does not allow:

- ITI-38: the DocumentEntries of the registry's answer (ExtrinsicObjects, decoded; for an
  ObjectRef answer the gateway first asks its registry for those entries with GetDocuments,
  LeafClass) are judged together with the patients the query names; a hidden DocumentEntry
  or ObjectRef is removed with every Association whose source or target it is. The verdict's
  response slots go into rs:ResponseSlotList.
- ITI-39: the uniqueIds the request asks of this community's repositories are judged before
  any repository is asked; one not allowed is answered as a repository answers a document it
  does not hold (XDSDocumentUniqueIdError, the same codeContext), so hidden and absent look
  alike.

A refused request is answered Failure with LocalPolicyRestrictionError (location: the home
community) and nothing else.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from profiles import stored_queries
from profiles.access import DocumentAccess, Verdict, add_response_slots, decode_entries, query_patient_ids
from profiles.errors import ErrorCode, Issue
from profiles.model import DocumentEntry
from profiles.vocabulary import QUERY, RIM

from .local import LocalRegistry
from .retrieve_set import DocumentRequest

REGISTRY_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"
EXTRINSIC_OBJECT = f"{{{RIM}}}ExtrinsicObject"
OBJECT_REF = f"{{{RIM}}}ObjectRef"
ASSOCIATION = f"{{{RIM}}}Association"
GET_DOCUMENTS = stored_queries.by_name("GetDocuments").id


def screen_query_answer(response: etree._Element, request: etree._Element, registry: LocalRegistry,
                        access: DocumentAccess, context: Mapping[str, Any]) -> Verdict:
    """Remove from the registry's `response` what the verdict does not allow; the verdict."""
    object_list = response.find(REGISTRY_OBJECT_LIST)
    children = [] if object_list is None else [c for c in object_list if isinstance(c.tag, str)]
    entries = decode_entries(c for c in children if c.tag == EXTRINSIC_OBJECT)
    refs = [c.get("id", "") for c in children if c.tag == OBJECT_REF]
    if refs:
        entries += referenced_entries(registry, refs)
    verdict = access.visible(context, entries, query_patient_ids(request))
    if verdict.refusal is None:
        hidden = {entry.id for entry in entries} - verdict.allowed
        for child in children:
            if hidden and _touches(child, hidden):
                object_list.remove(child)
        add_response_slots(response, verdict.response_slots)
    return verdict


def _touches(element: etree._Element, hidden: set[str]) -> bool:
    if element.tag == ASSOCIATION:
        return element.get("sourceObject") in hidden or element.get("targetObject") in hidden
    return element.tag in (EXTRINSIC_OBJECT, OBJECT_REF) and element.get("id") in hidden


def referenced_entries(registry: LocalRegistry, uuids: Sequence[str]) -> list[DocumentEntry]:
    """The DocumentEntries among `uuids`, asked of the registry (GetDocuments, LeafClass)."""
    answer = registry.query(get_documents_request(uuids))
    object_list = answer.find(REGISTRY_OBJECT_LIST)
    return [] if object_list is None else decode_entries(object_list.iterchildren(EXTRINSIC_OBJECT))


def get_documents_request(uuids: Sequence[str]) -> etree._Element:
    """query:AdhocQueryRequest GetDocuments (LeafClass) by $XDSDocumentEntryEntryUUID."""
    root = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(root, f"{{{QUERY}}}ResponseOption", returnType="LeafClass", returnComposedObjects="true")
    query = etree.SubElement(root, f"{{{RIM}}}AdhocQuery", id=GET_DOCUMENTS)
    slot = etree.SubElement(query, f"{{{RIM}}}Slot", name="$XDSDocumentEntryEntryUUID")
    values = etree.SubElement(slot, f"{{{RIM}}}ValueList")
    quoted = ",".join("'" + uuid.replace("'", "''") + "'" for uuid in uuids)
    etree.SubElement(values, f"{{{RIM}}}Value").text = f"({quoted})"
    return root


def screen_retrieve(groups: dict[str, list[DocumentRequest]], access: DocumentAccess,
                    context: Mapping[str, Any]) -> tuple[Verdict, dict[str, list[DocumentRequest]], list[Issue]]:
    """The verdict on every document asked, the groups without what it does not allow, and the
    errors answering those as unknown documents."""
    asked = [item.document_unique_id for items in groups.values() for item in items]
    verdict = access.retrievable(context, asked)
    if verdict.refusal is not None:
        return verdict, {}, []
    kept: dict[str, list[DocumentRequest]] = {}
    issues: list[Issue] = []
    for repository_id, items in groups.items():
        for item in items:
            if item.document_unique_id in verdict.allowed:
                kept.setdefault(repository_id, []).append(item)
            else:
                issues.append(not_in_repository(item))
    return verdict, kept, issues


def not_in_repository(item: DocumentRequest) -> Issue:
    """What the repository answers for a document it does not hold (repository.retrieve)."""
    uid = item.document_unique_id
    return Issue(ErrorCode.DOCUMENT_UNIQUE_ID_ERROR,
                 f"document uniqueId {uid} is not in repository {item.repository_unique_id}", location=uid)


__all__ = ["get_documents_request", "not_in_repository", "referenced_entries", "screen_query_answer",
           "screen_retrieve"]
