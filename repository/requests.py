"""The ITI-43 and ITI-86 message bodies: reading DocumentRequests, writing the retrieve answer.

ITI-43 RetrieveDocumentSetRequest and ITI-86 rmd:RemoveDocumentsRequest share one type
(XDS.b_DocumentRepository.xsd `RetrieveDocumentSetRequestType`; RMD.xsd declares
rmd:RemoveDocumentsRequest with it): one or more xdsb:DocumentRequest, each with an optional
HomeCommunityId, a RepositoryUniqueId and a DocumentUniqueId (ITI TF-2 3.43.4.1.2, RMD
3.86.4.1.2). The answer to ITI-43 is xdsb:RetrieveDocumentSetResponse: an rs:RegistryResponse
and one xdsb:DocumentResponse per returned document, its content an xop:Include (3.43.4.2.2).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import registry_response
from profiles.vocabulary import RMD, XDSB
from soap.mtom import include_element

RETRIEVE_REQUEST = f"{{{XDSB}}}RetrieveDocumentSetRequest"
RETRIEVE_RESPONSE = f"{{{XDSB}}}RetrieveDocumentSetResponse"
REMOVE_REQUEST = f"{{{RMD}}}RemoveDocumentsRequest"
_DOCUMENT_REQUEST = f"{{{XDSB}}}DocumentRequest"


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """One requested document: which repository and document, and (XCA) which community."""

    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentAnswer:
    """One document to return: what was asked, its mimeType and the content-id of its part."""

    request: DocumentRequest
    mime_type: str
    content_id: str


def read_document_requests(body: etree._Element, expected: str) -> tuple[list[DocumentRequest], list[Issue]]:
    """The DocumentRequests of an ITI-43 (`expected` = RETRIEVE_REQUEST) or ITI-86 body, and
    the issues of requests that name no document (XDSDocumentUniqueIdError)."""
    if body.tag != expected:
        return [], [Issue(ErrorCode.REPOSITORY_ERROR,
                          f"expected {etree.QName(expected).localname}, found {etree.QName(body).localname}")]
    requests, issues = [], []
    for number, element in enumerate(body.iterchildren(_DOCUMENT_REQUEST), 1):
        document_id = _text(element, "DocumentUniqueId")
        if not document_id:
            issues.append(Issue(ErrorCode.DOCUMENT_UNIQUE_ID_ERROR,
                                f"DocumentRequest {number} has no DocumentUniqueId"))
            continue
        requests.append(DocumentRequest(_text(element, "RepositoryUniqueId"), document_id,
                                        _text(element, "HomeCommunityId") or None))
    if not requests and not issues:
        issues.append(Issue(ErrorCode.REPOSITORY_ERROR, "the request holds no DocumentRequest"))
    return requests, issues


def _text(element: etree._Element, name: str) -> str:
    return (element.findtext(f"{{{XDSB}}}{name}") or "").strip()


def retrieve_response(issues: list[Issue], answers: Iterable[DocumentAnswer]) -> etree._Element:
    """xdsb:RetrieveDocumentSetResponse (3.43.4.2.2): Success with no errors, PartialSuccess
    with errors and at least one document, Failure with errors and none."""
    answers = list(answers)
    if not any(issue.is_error for issue in issues):
        status = Status.SUCCESS
    else:
        status = Status.PARTIAL_SUCCESS if answers else Status.FAILURE
    response = etree.Element(RETRIEVE_RESPONSE, nsmap={"xdsb": XDSB})
    response.append(registry_response(issues, status=status))
    for answer in answers:
        response.append(_document_response(answer))
    return response


def _document_response(answer: DocumentAnswer) -> etree._Element:
    element = etree.Element(f"{{{XDSB}}}DocumentResponse")
    request = answer.request
    if request.home_community_id:
        _child(element, "HomeCommunityId", request.home_community_id)
    _child(element, "RepositoryUniqueId", request.repository_unique_id)
    _child(element, "DocumentUniqueId", request.document_unique_id)
    _child(element, "mimeType", answer.mime_type)
    _child(element, "Document", None).append(include_element(answer.content_id))
    return element


def _child(parent: etree._Element, name: str, text: str | None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{XDSB}}}{name}")
    child.text = text
    return child
