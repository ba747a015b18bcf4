"""SOAP endpoints of the Responding Gateway: ITI-38 and ITI-39 on one SoapRouter.

ITI TF-2 3.38.5 / 3.39.5: Cross Gateway Query travels as plain SOAP 1.2, Cross Gateway
Retrieve as MTOM/XOP; the router answers each in the packaging its request came in (a
retrieve answer with documents is MTOM in any case). wsa:Action values are those of
ITI TF-2 Table 3.38.5-1 and 3.39.5-1; replies carry the `...Response` actions.
"""
from __future__ import annotations

from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.xml import DEFAULT_MAX_XML_BYTES

from .responding import RespondingGateway

CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"
CROSS_GATEWAY_RETRIEVE = "urn:ihe:iti:2007:CrossGatewayRetrieve"


def build_responding_router(gateway: RespondingGateway, *, max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
                            router: SoapRouter | None = None) -> SoapRouter:
    """A SoapRouter serving `gateway` (or `router` with the two actions added)."""
    router = router or SoapRouter(max_xml_bytes=max_xml_bytes)

    def cross_gateway_query(request: SoapRequest) -> SoapResponse:
        return SoapResponse(gateway.cross_gateway_query(request.body, request.environ))

    def cross_gateway_retrieve(request: SoapRequest) -> SoapResponse:
        response, attachments = gateway.cross_gateway_retrieve(request.body, request.environ)
        return SoapResponse(response, attachments=attachments)

    router.register(CROSS_GATEWAY_QUERY, cross_gateway_query)
    router.register(CROSS_GATEWAY_RETRIEVE, cross_gateway_retrieve)
    return router
