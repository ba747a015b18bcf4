"""The metadata a retrieve is judged by, asked of the registry (ITI-18 GetDocuments by
$XDSDocumentEntryUniqueId, LeafClass).

A repository holds bytes, not metadata; confidentialityCode, classCode, authors and patient
live in the registry and may change there (metadata update), so the policy asks the registry
at retrieve time rather than keeping a copy in the repository index: the co-located
RegistryService in-process (unscreened: no request context is passed), or the registry at
`registry_url` / `responding_registry_url` over SOAP (that registry must trust this node).
When a uniqueId names several versions, the Approved one is judged.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from lxml import etree

from profiles import stored_queries
from profiles.access import decode_entries
from profiles.errors import Status
from profiles.model import DocumentEntry
from profiles.responses import read_registry_response
from profiles.vocabulary import QUERY, RIM, AvailabilityStatus

from .facts import DocumentFacts

log = logging.getLogger("xdsno.policy")

#: an ITI-18 registry: query:AdhocQueryRequest → query:AdhocQueryResponse
RegistryQuery = Callable[[etree._Element], etree._Element]

GET_DOCUMENTS = stored_queries.by_name("GetDocuments").id
_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"
_EXTRINSIC_OBJECT = f"{{{RIM}}}ExtrinsicObject"
_APPROVED = AvailabilityStatus.APPROVED.value


class RegistryDocuments:
    """uniqueId → DocumentFacts, asked of a registry with one GetDocuments per call."""

    def __init__(self, query: RegistryQuery):
        self._query = query

    def __call__(self, unique_ids: Sequence[str]) -> dict[str, DocumentFacts]:
        if not unique_ids:
            return {}
        answer = self._query(get_documents_by_unique_id(unique_ids))
        status, issues = read_registry_response(answer)
        if status is not Status.SUCCESS:
            # what the registry did not describe is not retrievable by an identified subject
            log.warning("document metadata for a retrieve: the registry answered %s %s", status.name,
                        "; ".join(f"{i.code} {i.context}" for i in issues))
        object_list = answer.find(_OBJECT_LIST)
        entries = [] if object_list is None else decode_entries(object_list.iterchildren(_EXTRINSIC_OBJECT))
        return {uid: DocumentFacts.of(entry) for uid, entry in _one_per_unique_id(entries).items()}


def _one_per_unique_id(entries: list[DocumentEntry]) -> dict[str, DocumentEntry]:
    chosen: dict[str, DocumentEntry] = {}
    for entry in entries:
        if entry.unique_id and (entry.unique_id not in chosen or entry.status == _APPROVED):
            chosen[entry.unique_id] = entry
    return chosen


def get_documents_by_unique_id(unique_ids: Sequence[str]) -> etree._Element:
    """query:AdhocQueryRequest GetDocuments (LeafClass) by $XDSDocumentEntryUniqueId."""
    root = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(root, f"{{{QUERY}}}ResponseOption", returnType="LeafClass", returnComposedObjects="true")
    query = etree.SubElement(root, f"{{{RIM}}}AdhocQuery", id=GET_DOCUMENTS)
    slot = etree.SubElement(query, f"{{{RIM}}}Slot", name="$XDSDocumentEntryUniqueId")
    quoted = ",".join("'" + uid.replace("'", "''") + "'" for uid in dict.fromkeys(unique_ids))
    etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = f"({quoted})"
    return root


__all__ = ["GET_DOCUMENTS", "RegistryDocuments", "RegistryQuery", "get_documents_by_unique_id"]
