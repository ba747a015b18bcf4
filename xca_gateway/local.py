"""What a Responding Gateway fronts: its community's registry and repositories (ITI TF-1 18.2).

Owns the two small protocols the Responding Gateway is written against, so that it never
imports the registry or repository actors (DESIGN.md §2):

- `LocalRegistry.query(adhoc_query_request) -> query:AdhocQueryResponse` (ITI-18 semantics);
- `LocalRepository.retrieve(retrieve_document_set_request) -> RetrieveResult` (ITI-43
  semantics): the xdsb:RetrieveDocumentSetResponse, whose `xdsb:Document` elements hold
  xop:Include references, and the attachments they refer to.

In-process implementations are the co-located services themselves (or thin adapters built by
the composition root, `xdsno`); the SOAP implementations here reach a registry or repository
at a URL (ITI-18 plain SOAP, ITI-43 MTOM). An implementation that cannot reach its actor
raises `LocalActorUnavailable`; the gateway turns that into a RegistryError. `verify` is the
TLS client context of an https URL (server verified, client certificate presented: ATNA ITI-19).
"""
from __future__ import annotations

import copy
import ssl
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol

from lxml import etree

from soap.client import SoapClient, SoapTransportError
from soap.mtom import Attachment, MtomError, OutgoingAttachment, include_element, new_content_id

from .retrieve_set import DOCUMENT_RESPONSE, RETRIEVE_RESPONSE

REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
RETRIEVE_DOCUMENT_SET = "urn:ihe:iti:2007:RetrieveDocumentSet"
_DOCUMENT = DOCUMENT_RESPONSE.replace("DocumentResponse", "Document")
_MIME_TYPE = DOCUMENT_RESPONSE.replace("DocumentResponse", "mimeType")
_CHUNK = 64 * 1024


class LocalActorUnavailable(Exception):
    """The registry or repository behind the gateway gave no usable answer."""


class RetrieveResult(NamedTuple):
    """An ITI-43/39 answer: the response element and the attachments its xop:Includes name."""

    response: etree._Element
    attachments: Sequence[OutgoingAttachment]


class LocalRegistry(Protocol):
    def query(self, request: etree._Element) -> etree._Element:
        """query:AdhocQueryResponse answering a query:AdhocQueryRequest (ITI TF-2 3.18)."""


class LocalRepository(Protocol):
    def retrieve(self, request: etree._Element) -> RetrieveResult:
        """RetrieveDocumentSetResponse and attachments for a request (ITI TF-2 3.43)."""


class SoapRegistry:
    """A Document Registry at a URL, asked with ITI-18 Registry Stored Query."""

    def __init__(self, url: str, *, timeout: float = 30.0, client: SoapClient | None = None,
                 verify: bool | ssl.SSLContext = True):
        self.url = url
        self._client = client or SoapClient(url, timeout=timeout, verify=verify)

    def query(self, request: etree._Element) -> etree._Element:
        try:
            reply = self._client.call(REGISTRY_STORED_QUERY, copy.deepcopy(request))
        except SoapTransportError as exc:
            raise LocalActorUnavailable(f"registry {self.url}: {exc}") from exc
        if reply.fault is not None:
            raise LocalActorUnavailable(f"registry {self.url} answered a SOAP fault: {reply.fault.reason}")
        return reply.body

    def close(self) -> None:
        self._client.close()


class SoapRepository:
    """A Document Repository at a URL, asked with ITI-43 Retrieve Document Set (MTOM).

    The received documents are passed on as attachments streaming from the spooled parts;
    each part is released once sent (or when the reply is dropped).
    """

    def __init__(self, url: str, *, timeout: float = 60.0, client: SoapClient | None = None,
                 verify: bool | ssl.SSLContext = True):
        self.url = url
        self._client = client or SoapClient(url, timeout=timeout, verify=verify)

    def retrieve(self, request: etree._Element) -> RetrieveResult:
        try:
            reply = self._client.call(RETRIEVE_DOCUMENT_SET, copy.deepcopy(request), mtom=True)
        except SoapTransportError as exc:
            raise LocalActorUnavailable(f"repository {self.url}: {exc}") from exc
        if reply.fault is not None or reply.body.tag != RETRIEVE_RESPONSE:
            reply.close()
            what = f"a SOAP fault: {reply.fault.reason}" if reply.fault is not None else reply.body.tag
            raise LocalActorUnavailable(f"repository {self.url} answered {what}")
        try:
            attachments = [_pass_on(document, reply.content_of(document), _mime_type(document))
                           for document in _documents(reply.body)]
        except MtomError as exc:
            reply.close()
            raise LocalActorUnavailable(f"repository {self.url}: unreadable document: {exc.reason}") from exc
        return RetrieveResult(reply.body, attachments)

    def close(self) -> None:
        self._client.close()


def _documents(response: etree._Element) -> list[etree._Element]:
    return [document for item in response.iterchildren(DOCUMENT_RESPONSE)
            if (document := item.find(_DOCUMENT)) is not None]


def _mime_type(document: etree._Element) -> str:
    return (document.getparent().findtext(_MIME_TYPE) or "application/octet-stream").strip()


def _pass_on(document: etree._Element, content: Attachment, mime_type: str) -> OutgoingAttachment:
    """Point `document` at a fresh content-id whose part streams from `content`."""
    content_id = new_content_id()
    for child in list(document):
        document.remove(child)
    document.text = None
    document.append(include_element(content_id))
    return OutgoingAttachment(content_id, mime_type, _AttachmentChunks(content), content.size)


class _AttachmentChunks:
    """Iterable over a received part's bytes that releases the part when closed."""

    def __init__(self, attachment: Attachment):
        self._attachment = attachment

    def __iter__(self) -> Iterator[bytes]:
        handle = self._attachment.open()
        while data := handle.read(_CHUNK):
            yield data

    def close(self) -> None:
        self._attachment.close()
