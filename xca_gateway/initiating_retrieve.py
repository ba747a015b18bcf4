"""Initiating Gateway, retrieve side: ITI-43 (or ITI-39) in, one ITI-39 per community out, one
merged MTOM RetrieveDocumentSetResponse back (ITI TF-2 3.43.4.1.3 and 3.39.4.1.3, Initiating
Gateway).

- Routing: DocumentRequests are grouped by HomeCommunityId, one ITI-39 (MTOM) per community.
  A DocumentRequest without HomeCommunityId → XDSMissingHomeCommunityId; with one this gateway
  does not know → XDSUnknownCommunity. A community with no usable answer → XDSUnavailableCommunity
  for each of its DocumentRequests. These errors name the document in `location` (its
  DocumentUniqueId, as retrieve errors do) and the community in the codeContext.
- Merging: every DocumentResponse is passed on, with HomeCommunityId set to the asked community
  when its Responding Gateway left it out. Its Document is re-sent as a new MTOM part whose bytes
  stream from where the client spooled them (memory up to 1 MiB, then a temporary file): no
  document is held whole in memory, and its spool is released once it was sent.
- Status: Success without errors; PartialSuccess with errors and at least one document;
  Failure without any document.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import XDSB
from soap.client import SoapClient, SoapReply
from soap.mime import CHUNK_SIZE
from soap.mtom import Attachment, MtomError, OutgoingAttachment, include_element, new_content_id

from .communities import Community, CommunityDirectory
from .initiating_query import located, unavailable
from .outbound import Outcome, Unavailable
from .retrieve_set import (
    DOCUMENT_RESPONSE,
    REGISTRY_RESPONSE,
    RETRIEVE_REQUEST,
    RETRIEVE_RESPONSE,
    DocumentRequest,
    read_document_requests,
    retrieve_request,
    retrieve_response,
    set_home,
)

CROSS_GATEWAY_RETRIEVE = "urn:ihe:iti:2007:CrossGatewayRetrieve"

_DOCUMENT = f"{{{XDSB}}}Document"


@dataclass
class RetrievePlan:
    """DocumentRequests by community (in request order), and the requests refused up front."""

    groups: dict[str, list[DocumentRequest]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


@dataclass
class RetrievedDocument:
    response: etree._Element  # the xdsb:DocumentResponse
    content: Attachment


@dataclass
class CommunityDocuments:
    """One Responding Gateway's RetrieveDocumentSetResponse, read; holds its spooled parts."""

    status: Status
    issues: list[Issue]
    documents: list[RetrievedDocument]
    reply: SoapReply

    def close(self) -> None:
        self.reply.close()


def plan_retrieve(request: etree._Element, directory: CommunityDirectory) -> RetrievePlan:
    """Group the DocumentRequests by the community they name."""
    plan = RetrievePlan()
    requests = read_document_requests(request) if request.tag == RETRIEVE_REQUEST else []
    if not requests:
        plan.issues.append(Issue(ErrorCode.REPOSITORY_ERROR, "expected an xdsb:RetrieveDocumentSetRequest "
                                 f"with at least one DocumentRequest, got {request.tag}"))
    for item in requests:
        home, document = item.home_community_id, item.document_unique_id
        if not home:
            plan.issues.append(Issue(ErrorCode.MISSING_HOME_COMMUNITY_ID, f"DocumentRequest for document "
                                     f"{document} has no HomeCommunityId", location=document))
        elif home not in directory:
            plan.issues.append(Issue(ErrorCode.UNKNOWN_COMMUNITY, f"DocumentRequest for document {document}: "
                                     f"HomeCommunityId {home} is not a community this gateway knows",
                                     location=document))
        else:
            plan.groups.setdefault(home, []).append(item)
    return plan


def community_request(requests: list[DocumentRequest]) -> etree._Element:
    """The ITI-39 body for one community (HomeCommunityId kept, ITI TF-2 3.39.4.1.2)."""
    return retrieve_request(requests, with_home=True)


def ask_community(client: SoapClient, request: etree._Element) -> CommunityDocuments:
    """Send one ITI-39 (MTOM) and read the answer; raises Unavailable or SoapTransportError when
    there is no usable answer. Runs on an outbound worker."""
    reply = client.call(CROSS_GATEWAY_RETRIEVE, request, mtom=True)
    try:
        if reply.fault is not None:
            raise Unavailable(f"answered a SOAP fault ({reply.fault.code}): {reply.fault.reason}")
        registry_response = reply.body.find(REGISTRY_RESPONSE)
        if reply.body.tag != RETRIEVE_RESPONSE or registry_response is None:
            raise Unavailable(f"answered {etree.QName(reply.body).localname} "
                              "that is no RetrieveDocumentSetResponse with a RegistryResponse")
        status, issues = read_registry_response(registry_response)
        return CommunityDocuments(status, issues, _documents(reply), reply)
    except BaseException:
        reply.close()
        raise


def _documents(reply: SoapReply) -> list[RetrievedDocument]:
    documents = []
    for response in reply.body.iterchildren(DOCUMENT_RESPONSE):
        element = response.find(_DOCUMENT)
        unique_id = (response.findtext(f"{{{XDSB}}}DocumentUniqueId") or "").strip()
        if element is None:
            raise Unavailable(f"answered a DocumentResponse without Document ({unique_id})")
        try:
            documents.append(RetrievedDocument(response, reply.content_of(element)))
        except MtomError as exc:
            raise Unavailable(f"answered an unreadable Document ({unique_id}): {exc}") from None
    return documents


def merge_documents(
    plan: RetrievePlan, outcomes: dict[str, Outcome[CommunityDocuments]], directory: CommunityDirectory,
) -> tuple[etree._Element, list[OutgoingAttachment]]:
    """The merged RetrieveDocumentSetResponse and the parts streaming its documents."""
    issues = list(plan.issues)
    responses: list[etree._Element] = []
    parts: list[OutgoingAttachment] = []
    for home, requests in plan.groups.items():
        community, outcome = directory.get(home), outcomes[home]
        if not outcome.ok:
            issues.extend(unavailable(community, outcome.failure, item.document_unique_id)
                          for item in requests)
            continue
        answer = outcome.value
        issues.extend(located(issue, home) for issue in answer.issues)
        for document in answer.documents:
            responses.append(_pass_on(document.response, community))
            parts.append(_part(document, document.response))
        _release_unused(answer)
    return retrieve_response(issues, responses), parts


def _pass_on(response: etree._Element, community: Community) -> etree._Element:
    if not (response.findtext(f"{{{XDSB}}}HomeCommunityId") or "").strip():
        set_home(response, community.home_community_id)
    return response


def _part(document: RetrievedDocument, response: etree._Element) -> OutgoingAttachment:
    """Point the Document element at a fresh MTOM part streaming the spooled content."""
    content_id = new_content_id()
    element = response.find(_DOCUMENT)
    element.text = None
    for child in list(element):
        element.remove(child)
    element.append(include_element(content_id))
    content = document.content
    return OutgoingAttachment(content_id, content.content_type, SpooledContent(content), content.size)


def _release_unused(answer: CommunityDocuments) -> None:
    used = {id(document.content) for document in answer.documents}
    for attachment in answer.reply.attachments.values():
        if id(attachment) not in used:
            attachment.close()


class SpooledContent:
    """Chunks of a received attachment, read when the response is written; `close()` (called by
    the MTOM writer when the part is done or abandoned) releases the spool."""

    def __init__(self, attachment: Attachment):
        self._attachment = attachment

    def __iter__(self) -> Iterator[bytes]:
        handle = self._attachment.open()
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk

    def close(self) -> None:
        self._attachment.close()
