"""SOAP endpoint of the Initiating Gateway (mounted at `/xca/initiating`).

Serves, on one SoapRouter:
  - ITI-18 Registry Stored Query (`urn:ihe:iti:2007:RegistryStoredQuery`) from local consumers and
    ITI-38 Cross Gateway Query (`urn:ihe:iti:2007:CrossGatewayQuery`) from a national consumer;
  - ITI-43 Retrieve Document Set (`urn:ihe:iti:2007:RetrieveDocumentSet`) and ITI-39 Cross Gateway
    Retrieve (`urn:ihe:iti:2007:CrossGatewayRetrieve`), answered as MTOM.
Each answer carries the request action + "Response" (ITI TF-2 Appendix V). The consumer's
wsse:Security header block — its XUA identity assertion (ITI-40) — goes on to every community
asked, unmodified so its signature still verifies there and each responding community judges
the same user; other headers of the consumer do not.
"""
from __future__ import annotations

from lxml import etree

from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.wsse import security_header
from soap.xml import DEFAULT_MAX_XML_BYTES

from .initiating import InitiatingGateway
from .initiating_query import CROSS_GATEWAY_QUERY
from .initiating_retrieve import CROSS_GATEWAY_RETRIEVE

REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
RETRIEVE_DOCUMENT_SET = "urn:ihe:iti:2007:RetrieveDocumentSet"

QUERY_ACTIONS = (REGISTRY_STORED_QUERY, CROSS_GATEWAY_QUERY)
RETRIEVE_ACTIONS = (RETRIEVE_DOCUMENT_SET, CROSS_GATEWAY_RETRIEVE)


def build_initiating_router(
    gateway: InitiatingGateway, *, max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
    router: SoapRouter | None = None,
) -> SoapRouter:
    """Register the four Initiating Gateway transactions on `router` (a new one by default)."""
    router = router or SoapRouter(max_xml_bytes=max_xml_bytes)

    def answer_query(request: SoapRequest) -> SoapResponse:
        return SoapResponse(gateway.query(request.body, headers=forwarded_headers(request),
                                          context=request.environ))

    def answer_retrieve(request: SoapRequest) -> SoapResponse:
        body, parts = gateway.retrieve(request.body, headers=forwarded_headers(request),
                                       context=request.environ)
        return SoapResponse(body, parts)

    for action in QUERY_ACTIONS:
        router.register(action, answer_query)
    for action in RETRIEVE_ACTIONS:
        router.register(action, answer_retrieve)
    return router


def forwarded_headers(request: SoapRequest) -> list[etree._Element]:
    """The consumer's header blocks each community gets: its wsse:Security block, as received.

    Serialized and parsed again rather than deep-copied: serializing keeps every namespace in
    scope (e.g. `xs` declared on the consumer's Envelope and used only in xsi:type values),
    which an exclusive-c14n signature naming it in InclusiveNamespaces needs to still verify.
    """
    block = security_header(request.header)
    return [etree.fromstring(etree.tostring(block))] if block is not None else []
