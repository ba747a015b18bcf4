"""Builders and fakes for the XCA gateway tests: ITI-38/39 requests, a fake registry and fake
repositories with the `LocalRegistry` / `LocalRepository` shapes."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from lxml import etree

from profiles.ebrim import encode_object
from profiles.errors import ErrorCode, Issue
from profiles.responses import adhoc_query_response
from profiles.vocabulary import QUERY, RIM, XDSB
from soap.mtom import OutgoingAttachment, include_element
from tests.profiles import samples
from xca_gateway.local import RetrieveResult
from xca_gateway.retrieve_set import read_document_requests, retrieve_response

HOME = "urn:oid:2.16.578.1.12.4.1.7.1.101"
OTHER_HOME = "urn:oid:2.16.578.1.12.4.1.7.1.102"
REPOSITORY = "2.16.578.1.12.4.1.7.1.101.1"
SECOND_REPOSITORY = "2.16.578.1.12.4.1.7.1.101.2"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_DOCUMENTS_MULTIPLE_PATIENTS = "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f"
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"


def adhoc_query(query_id: str = FIND_DOCUMENTS, home: str | None = None,
                slots: dict[str, str] | None = None, return_type: str = "LeafClass") -> etree._Element:
    """query:AdhocQueryRequest for a stored query; FindDocuments for PATIENT by default."""
    if slots is None:
        slots = {"$XDSDocumentEntryPatientId": f"'{PATIENT}'",
                 "$XDSDocumentEntryStatus": "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true", returnType=return_type)
    query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=query_id)
    if home is not None:
        query.set("home", home)
    for name, value in slots.items():
        slot = etree.SubElement(query, f"{{{RIM}}}Slot", name=name)
        etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    return request


def registry_objects() -> list[etree._Element]:
    """The sample submission as a registry returns it, plus an ObjectRef."""
    metadata = samples.as_registry_metadata()
    objects = [encode_object(obj) for obj in (*metadata.document_entries, *metadata.submission_sets,
                                               *metadata.folders, *metadata.associations)]
    objects.append(etree.Element(f"{{{RIM}}}ObjectRef", id="urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))
    return objects


@dataclass
class FakeRegistry:
    """Answers every query with `objects` and `issues`; records what it was asked."""

    objects: list[etree._Element] = field(default_factory=registry_objects)
    issues: list[Issue] = field(default_factory=list)
    error: Exception | None = None
    asked: list[etree._Element] = field(default_factory=list)

    def query(self, request: etree._Element) -> etree._Element:
        self.asked.append(request)
        if self.error is not None:
            raise self.error
        return adhoc_query_response(list(self.issues), [etree.fromstring(etree.tostring(o)) for o in self.objects])


def document_bytes(unique_id: str) -> bytes:
    return f"Epikrise for {unique_id}\n".encode() * 3


@dataclass
class FakeRepository:
    """An ITI-43 repository holding `documents` (uniqueId → bytes); unknown ids are errors
    located at the uniqueId (as ITI TF-2 3.43.4.2.3 suggests); content-ids repeat across
    instances on purpose ("doc-1@fake", ...), to exercise the merge."""

    repository_id: str
    documents: dict[str, bytes]
    error: Exception | None = None
    asked: list[etree._Element] = field(default_factory=list)

    def retrieve(self, request: etree._Element) -> RetrieveResult:
        self.asked.append(request)
        if self.error is not None:
            raise self.error
        issues, responses, parts = [], [], []
        for number, item in enumerate(read_document_requests(request), 1):
            data = self.documents.get(item.document_unique_id)
            if item.repository_unique_id != self.repository_id or data is None:
                issues.append(Issue(ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, f"no document {item.document_unique_id}",
                                    location=item.document_unique_id))
                continue
            content_id = f"doc-{number}@fake"
            responses.append(_document_response(item.repository_unique_id, item.document_unique_id, content_id))
            parts.append(OutgoingAttachment.from_bytes(content_id, data, "text/plain"))
        return RetrieveResult(retrieve_response(issues, responses), parts)


def _document_response(repository_id: str, unique_id: str, content_id: str) -> etree._Element:
    element = etree.Element(f"{{{XDSB}}}DocumentResponse")
    etree.SubElement(element, f"{{{XDSB}}}RepositoryUniqueId").text = repository_id
    etree.SubElement(element, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
    etree.SubElement(element, f"{{{XDSB}}}mimeType").text = "text/plain"
    etree.SubElement(element, f"{{{XDSB}}}Document").append(include_element(content_id))
    return element


def retrieve_request(*items: tuple[str | None, str, str]) -> etree._Element:
    """xdsb:RetrieveDocumentSetRequest of (home or None, repositoryUniqueId, documentUniqueId)."""
    root = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetRequest", nsmap={"xdsb": XDSB})
    for home, repository_id, unique_id in items:
        request = etree.SubElement(root, f"{{{XDSB}}}DocumentRequest")
        if home is not None:
            etree.SubElement(request, f"{{{XDSB}}}HomeCommunityId").text = home
        etree.SubElement(request, f"{{{XDSB}}}RepositoryUniqueId").text = repository_id
        etree.SubElement(request, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
    return root


def inline_documents(response: etree._Element, contents: dict[str, bytes]) -> etree._Element:
    """A copy of a retrieve response with each xop:Include replaced by its base64 content
    (contents by content-id), so that the schema's base64Binary check applies."""
    copy = etree.fromstring(etree.tostring(response))
    for include in list(copy.iter("{http://www.w3.org/2004/08/xop/include}Include")):
        parent = include.getparent()
        cid = include.get("href")[4:]
        parent.remove(include)
        parent.text = base64.b64encode(contents[cid]).decode()
    return copy


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
