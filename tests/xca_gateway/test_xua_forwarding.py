"""The Initiating Gateway endpoint passes the consumer's wsse:Security (its XUA assertion) on to
every community asked, as received, and no other header of the consumer (in-process gateway,
fake Responding Gateways on loopback). This gateway verifies nothing itself (no XUA settings:
tests/xdsno/test_xua.py has those), so the consumer sends wsse:Security without mustUnderstand."""
from __future__ import annotations

import pytest
from lxml import etree

from soap import wsse
from soap.addressing import ADDRESSING_HEADERS
from tests.xdsno.xua_support import config, fresh_spec, security_header, signed_assertion
from xdsno.xua import XuaConfig, verify_assertion

from .initiating_fakes import FakeCommunity, serve
from .initiating_support import ITI18, ITI43, directory_of, find_documents, initiating_gateway, retrieve_request

NORD, VEST = "urn:oid:2.16.578.1.12.4.1.7.1.2", "urn:oid:2.16.578.1.12.4.1.7.1.3"


@pytest.fixture
def gateway():
    fakes = [FakeCommunity(NORD, "Helse Nord", {"2.1": b"n"}), FakeCommunity(VEST, "Helse Vest", {"3.1": b"v"})]
    servers = []
    for fake in fakes:
        router = fake.router()
        router.understand(wsse.SECURITY)
        servers.append(serve(router))
    try:
        with initiating_gateway(directory_of(zip(fakes, (s.url for s in servers)))) as (_, client):
            yield client, fakes
    finally:
        for server in servers:
            server.stop()


def header_tags(header: etree._Element) -> list[str]:
    return [block.tag for block in header if block.tag not in ADDRESSING_HEADERS]


def test_query_passes_the_security_header_on_and_nothing_else(gateway):
    client, fakes = gateway
    assertion = signed_assertion(fresh_spec())
    other = etree.Element("{urn:test:consumer}Tracking")
    client.call(ITI18, find_documents(), headers=[security_header(assertion, must_understand=False), other])
    real_time = XuaConfig(config().trusted_issuers)
    for fake in fakes:
        assert header_tags(fake.headers[-1]) == [wsse.SECURITY]
        forwarded = wsse.security_header(fake.headers[-1])
        assert etree.tostring(forwarded[0], method="c14n", exclusive=True) == \
            etree.tostring(assertion, method="c14n", exclusive=True)
        assert verify_assertion(forwarded, real_time).subject == "Kari Nordmann"


def test_retrieve_passes_the_security_header_on(gateway):
    client, fakes = gateway
    client.call(ITI43, retrieve_request([(NORD, "2.1"), (VEST, "3.1")]),
                headers=[security_header(signed_assertion(fresh_spec()), must_understand=False)])
    assert [header_tags(fake.headers[-1]) for fake in fakes] == [[wsse.SECURITY], [wsse.SECURITY]]


def test_without_security_header_the_communities_get_only_addressing(gateway):
    client, fakes = gateway
    client.call(ITI18, find_documents(), headers=[etree.Element("{urn:test:consumer}Tracking")])
    assert [header_tags(fake.headers[-1]) for fake in fakes] == [[], []]
