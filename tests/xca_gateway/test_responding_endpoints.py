"""The Responding Gateway's SOAP router in-process: actions, packaging (ITI TF-2 3.38.5, 3.39.5)."""
from __future__ import annotations

from lxml import etree

from profiles.responses import read_registry_response
from profiles.errors import Status
from profiles.vocabulary import RIM, XDSB
from soap.addressing import WSA
from tests.soap.support import call_wsgi, request_bytes
from xca_gateway.endpoints import CROSS_GATEWAY_QUERY, CROSS_GATEWAY_RETRIEVE, build_responding_router
from xca_gateway.responding import RespondingGateway

from .support import HOME, REPOSITORY, FakeRegistry, FakeRepository, adhoc_query, document_bytes, retrieve_request

DOC = "2.16.578.1.12.4.1.7.1.101.9.1"


def router():
    repository = FakeRepository(REPOSITORY, {DOC: document_bytes(DOC)})
    return build_responding_router(RespondingGateway(HOME, FakeRegistry(), {REPOSITORY: repository}))


def test_serves_both_actions():
    assert router().actions == {CROSS_GATEWAY_QUERY, CROSS_GATEWAY_RETRIEVE}


def test_query_is_answered_plain_with_the_response_action():
    content_type, body = request_bytes(CROSS_GATEWAY_QUERY, adhoc_query())
    result = call_wsgi(router(), body, content_type)
    assert result.status == 200 and result.content_type.startswith("application/soap+xml")
    message = result.message()
    assert message.header.findtext(f"{WSA}Action") == "urn:ihe:iti:2007:CrossGatewayQueryResponse"
    objects = message.body.find(f"{{{RIM}}}RegistryObjectList")
    assert len(objects) and all(o.get("home") == HOME for o in objects)


def test_retrieve_is_answered_mtom_with_the_document_bytes():
    content_type, body = request_bytes(CROSS_GATEWAY_RETRIEVE, retrieve_request((HOME, REPOSITORY, DOC)), mtom=True)
    result = call_wsgi(router(), body, content_type)
    assert result.status == 200 and result.content_type.startswith("multipart/related")
    message = result.message()
    assert message.header.findtext(f"{WSA}Action") == "urn:ihe:iti:2007:CrossGatewayRetrieveResponse"
    response = message.body
    assert read_registry_response(response[0])[0] is Status.SUCCESS
    (document_response,) = response.iterchildren(f"{{{XDSB}}}DocumentResponse")
    assert document_response.findtext(f"{{{XDSB}}}HomeCommunityId") == HOME
    document = document_response.find(f"{{{XDSB}}}Document")
    assert message.xop.content_of(document).read_bytes() == document_bytes(DOC)
    assert etree.QName(response).localname == "RetrieveDocumentSetResponse"
