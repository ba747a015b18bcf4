"""Retrieve Document Set messages as the XCA gateways see them (ITI TF-2 3.43.4 and 3.39.4).

Owns reading xdsb:RetrieveDocumentSetRequest into `DocumentRequest`s, writing the request a
gateway sends on to one repository (ITI-43) or community (ITI-39), and assembling one
xdsb:RetrieveDocumentSetResponse from DocumentResponse elements and issues, with the status
rules of ITI TF-2 3.43.4.2.3: Success when every requested document came back without
errors, PartialSuccess when some came back and there are errors, Failure when none came back.

Document content stays where the repository put it: a DocumentResponse's `xdsb:Document`
keeps its xop:Include, and the attachments travel beside the element.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from profiles.errors import Issue, Status
from profiles.responses import registry_response
from profiles.vocabulary import RS, XDSB

RETRIEVE_REQUEST = f"{{{XDSB}}}RetrieveDocumentSetRequest"
RETRIEVE_RESPONSE = f"{{{XDSB}}}RetrieveDocumentSetResponse"
DOCUMENT_REQUEST = f"{{{XDSB}}}DocumentRequest"
DOCUMENT_RESPONSE = f"{{{XDSB}}}DocumentResponse"
HOME_COMMUNITY_ID = f"{{{XDSB}}}HomeCommunityId"
REPOSITORY_UNIQUE_ID = f"{{{XDSB}}}RepositoryUniqueId"
DOCUMENT_UNIQUE_ID = f"{{{XDSB}}}DocumentUniqueId"
REGISTRY_RESPONSE = f"{{{RS}}}RegistryResponse"
_NSMAP = {"xdsb": XDSB}


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """One xdsb:DocumentRequest; an absent or empty child reads as ""."""

    home_community_id: str
    repository_unique_id: str
    document_unique_id: str


def read_document_requests(request: etree._Element) -> list[DocumentRequest]:
    """The DocumentRequests of an xdsb:RetrieveDocumentSetRequest, in order."""
    return [
        DocumentRequest(
            (element.findtext(HOME_COMMUNITY_ID) or "").strip(),
            (element.findtext(REPOSITORY_UNIQUE_ID) or "").strip(),
            (element.findtext(DOCUMENT_UNIQUE_ID) or "").strip(),
        )
        for element in request.iterchildren(DOCUMENT_REQUEST)
    ]


def retrieve_request(requests: Iterable[DocumentRequest], *, with_home: bool = False) -> etree._Element:
    """xdsb:RetrieveDocumentSetRequest for `requests`; HomeCommunityId only when `with_home`
    (ITI-39 requires it, ITI-43 to a repository does not use it)."""
    root = etree.Element(RETRIEVE_REQUEST, nsmap=_NSMAP)
    for item in requests:
        element = etree.SubElement(root, DOCUMENT_REQUEST)
        if with_home and item.home_community_id:
            etree.SubElement(element, HOME_COMMUNITY_ID).text = item.home_community_id
        etree.SubElement(element, REPOSITORY_UNIQUE_ID).text = item.repository_unique_id
        etree.SubElement(element, DOCUMENT_UNIQUE_ID).text = item.document_unique_id
    return root


def document_responses(response: etree._Element) -> list[etree._Element]:
    return list(response.iterchildren(DOCUMENT_RESPONSE))


def set_home(document_response: etree._Element, home_community_id: str) -> None:
    """Make HomeCommunityId the first child of an xdsb:DocumentResponse (ITI TF-2 3.39.4.2.2)."""
    existing = document_response.find(HOME_COMMUNITY_ID)
    if existing is None:
        existing = etree.Element(HOME_COMMUNITY_ID)
        document_response.insert(0, existing)
    existing.text = home_community_id


def response_status(issues: list[Issue], documents: int) -> Status:
    """ITI TF-2 3.43.4.2.3: Success, PartialSuccess (documents and errors) or Failure."""
    if not any(issue.is_error for issue in issues):
        return Status.SUCCESS
    return Status.PARTIAL_SUCCESS if documents else Status.FAILURE


def retrieve_response(issues: Iterable[Issue], documents: Iterable[etree._Element]) -> etree._Element:
    """xdsb:RetrieveDocumentSetResponse: rs:RegistryResponse, then the DocumentResponses (moved)."""
    issues, documents = list(issues), list(documents)
    root = etree.Element(RETRIEVE_RESPONSE, nsmap=_NSMAP)
    root.append(registry_response(issues, status=response_status(issues, len(documents))))
    root.extend(documents)
    return root
