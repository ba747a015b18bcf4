"""XUA enforcement (ITI-40) of a deployment: xua_* settings → every SOAP endpoint verifies the
wsse:Security assertion, required ones refuse a request without one (WS-Security 1.1 §12
faults), the Assertion reaches handlers in environ["xdsno.xua"], and the Initiating Gateway
forwards the consumer's wsse:Security so it still verifies at the responding gateways.

In-process through build_app, then the real `xdsno serve` over loopback with XDSNO_XUA_*.
"""
from __future__ import annotations

import copy
import io
import uuid
from datetime import timedelta

import httpx

import pytest
from lxml import etree

from profiles.errors import Status
from profiles.vocabulary import QUERY
from soap import wsse
from soap.addressing import request_headers
from soap.client import SoapClient
from soap.message import SOAP_CONTENT_TYPE, read_message
from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.xml import SOAP12_NS
from tests.server import running_server
from tests.soap.support import call_wsgi, fault_reason, fault_subcode, request_bytes
from tests.xca_gateway.initiating_fakes import FakeCommunity, serve
from tests.xca_gateway.initiating_support import adhoc_query, retrieve_request, retrieved, status_and_issues
from xdsno.app import build_app
from xdsno.settings import SettingsError, load_settings
from xdsno.xua import XuaConfig, verify_assertion
from xdsno.xua.enforcement import ENVIRON_KEY, XuaGuard

from .xua_support import (
    ISSUER,
    XS,
    attacker_keys,
    build_assertion,
    fresh_spec,
    issuer_keys,
    security_header,
    signed_assertion,
)

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def find_documents() -> etree._Element:
    return adhoc_query(FIND_DOCUMENTS, {
        "$XDSDocumentEntryPatientId": [f"'{PATIENT}'"],
        "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
    })


@pytest.fixture(scope="module")
def issuer_cert_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("xua") / "helseid-test.pem"
    path.write_bytes(issuer_keys().cert_pem)
    return path


def real_time_config() -> XuaConfig:
    return XuaConfig({ISSUER: (issuer_keys().cert,)})


# --- the cases, each a Security header at the real current time ----------------------------


def _tampered():
    assertion = signed_assertion(fresh_spec())
    value = assertion.find(f"{SAML}AttributeStatement/{SAML}Attribute[@Name="
                           f"'urn:oasis:names:tc:xacml:2.0:action:purpose']/{SAML}AttributeValue")
    value[0].set("code", "BTG")
    return security_header(assertion)


def _wrapped():
    signed = signed_assertion(fresh_spec())
    evil = copy.deepcopy(signed)
    evil.remove(evil.find(DS + "Signature"))
    evil.find(f"{SAML}Subject/{SAML}NameID").text = "Mallory"
    header = security_header(evil)
    etree.SubElement(header, "{urn:attacker}Wrapper").append(copy.deepcopy(signed))
    return header


def _unsigned():
    assertion = build_assertion(fresh_spec())
    assertion.remove(assertion.find(DS + "Signature"))
    return security_header(assertion)


REFUSED = {
    "expired": (lambda: security_header(signed_assertion(fresh_spec(lifetime=timedelta(minutes=-10)))),
                wsse.INVALID_SECURITY_TOKEN, "has expired"),
    "not yet valid beyond the skew": (
        lambda: security_header(signed_assertion(fresh_spec(issued_in=timedelta(minutes=7)))),
        wsse.INVALID_SECURITY_TOKEN, "future"),
    "wrong audience": (lambda: security_header(signed_assertion(fresh_spec(audiences=("urn:other",)))),
                       wsse.FAILED_AUTHENTICATION, "audience urn:other"),
    "wrong issuer": (lambda: security_header(signed_assertion(fresh_spec(issuer="https://idp.example/evil"))),
                     wsse.FAILED_AUTHENTICATION, "is not trusted"),
    "untrusted key": (lambda: security_header(signed_assertion(fresh_spec(), attacker_keys())),
                      wsse.FAILED_AUTHENTICATION, "does not verify"),
    "tampered attribute": (_tampered, wsse.FAILED_CHECK, "altered after it was signed"),
    "signature wrapping": (_wrapped, wsse.FAILED_AUTHENTICATION, "not signed"),
    "missing signature": (_unsigned, wsse.FAILED_AUTHENTICATION, "not signed"),
}
ACCEPTED = {
    "valid": lambda: security_header(signed_assertion(fresh_spec())),
    "pre-2024 names": lambda: security_header(signed_assertion(fresh_spec(pre_2024_names=True))),
    "expired within the skew": lambda: security_header(signed_assertion(
        fresh_spec(lifetime=timedelta(minutes=-2)))),
    "not yet valid within the skew": lambda: security_header(signed_assertion(
        fresh_spec(issued_in=timedelta(minutes=3)))),
}


# --- in process: settings → build_app → routers ---------------------------------------------


def app_with(tmp_path, issuer_cert_file, **overrides):
    settings = load_settings(environ={}, overrides={
        "data_dir": tmp_path, "xua_issuer_certs": (f"{ISSUER}={issuer_cert_file}",), **overrides})
    return build_app(settings)


def soap_call(app, path: str, action: str, body: etree._Element, header: etree._Element | None = None):
    content_type, data = request_bytes(action, body, extra_headers=[header] if header is not None else [])
    return call_wsgi(app, data, content_type, path=path)


def test_required_endpoint_without_assertion_is_a_wsse_fault_in_process(tmp_path, issuer_cert_file):
    app = app_with(tmp_path, issuer_cert_file, xua_required=("/registry",))
    result = soap_call(app, "/registry", ITI18, find_documents())
    fault = result.fault()
    assert result.status == 400 and fault_subcode(fault) == wsse.INVALID_SECURITY
    assert "requires a SAML 2.0 identity assertion" in fault_reason(fault)
    assert soap_call(app, "/registry", ITI18, find_documents(), ACCEPTED["valid"]()).status == 200


def test_without_xua_settings_security_headers_stay_not_understood(tmp_path):
    app = build_app(load_settings(environ={}, overrides={"data_dir": tmp_path}))
    result = soap_call(app, "/registry", ITI18, find_documents(), ACCEPTED["valid"]())
    assert result.fault().findtext(".//{http://www.w3.org/2003/05/soap-envelope}Value") == "env:MustUnderstand"
    assert soap_call(app, "/registry", ITI18, find_documents()).status == 200


def test_required_by_star_covers_every_endpoint(tmp_path, issuer_cert_file):
    app = app_with(tmp_path, issuer_cert_file, xua_required=("*",))
    assert fault_subcode(soap_call(app, "/xca", ITI38, find_documents()).fault()) == wsse.INVALID_SECURITY


@pytest.mark.parametrize("entry", ["nowhere", "/nowhere"])
def test_unknown_required_endpoint_is_a_settings_error(tmp_path, issuer_cert_file, entry):
    with pytest.raises(SettingsError, match="xua_required"):
        app_with(tmp_path, issuer_cert_file, xua_required=(entry,))


def test_required_without_trusted_issuers_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match="xua_required needs xua_issuer_certs"):
        load_settings(environ={"XDSNO_XUA_REQUIRED": "registry"}, overrides={"data_dir": tmp_path})


@pytest.mark.parametrize("entry", ["no-equals-sign", f"{ISSUER}=/does/not/exist.pem"])
def test_bad_issuer_certificate_entry_is_a_settings_error(tmp_path, entry):
    settings = load_settings(environ={}, overrides={"data_dir": tmp_path, "xua_issuer_certs": (entry,)})
    with pytest.raises(SettingsError, match="xua_issuer_certs"):
        build_app(settings)


def test_settings_from_the_environment(tmp_path, issuer_cert_file):
    settings = load_settings(environ={
        "XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={issuer_cert_file}", "XDSNO_XUA_REQUIRED": "registry,/xca",
        "XDSNO_XUA_AUDIENCES": "nhn:dokumentdeling-saml,urn:test:aud", "XDSNO_XUA_CLOCK_SKEW_SECONDS": "60",
    }, overrides={"data_dir": tmp_path})
    assert settings.xua_required == ("registry", "/xca")
    assert settings.xua_audiences == ("nhn:dokumentdeling-saml", "urn:test:aud")
    assert settings.xua_clock_skew_seconds == 60
    assert load_settings(environ={}, overrides={"data_dir": tmp_path}).xua_audiences == ("nhn:dokumentdeling-saml",)


def test_the_verified_assertion_reaches_the_handler_in_the_environ():
    seen = {}

    def handler(request: SoapRequest) -> SoapResponse:
        seen["assertion"] = request.environ.get(ENVIRON_KEY)
        return SoapResponse(etree.Element("{urn:test}Done"))

    router = SoapRouter(understood=[wsse.SECURITY], before_dispatch=[XuaGuard(real_time_config(), required=False)])
    router.register("urn:test:Act", handler)
    assert soap_call(router, "/", "urn:test:Act", etree.Element("{urn:test}Ask")).status == 200
    assert seen["assertion"] is None
    assert soap_call(router, "/", "urn:test:Act", etree.Element("{urn:test}Ask"), ACCEPTED["valid"]()).status == 200
    assertion = seen["assertion"]
    assert (assertion.user_name, assertion.hpr_number, assertion.role.code) == ("Kari Nordmann", "565505933", "LE")
    assert assertion.purpose_of_use.code == "TREAT" and assertion.organization_id == "983658725"


# --- the real server over loopback ----------------------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory, issuer_cert_file):
    env = {"XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={issuer_cert_file}", "XDSNO_XUA_REQUIRED": "registry",
           "XDSNO_XUA_CLOCK_SKEW_SECONDS": "300"}
    with running_server(tmp_path_factory.mktemp("xua-node") / "data", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def registry(node):
    with SoapClient(node.url("/registry")) as client:
        yield client


@pytest.mark.integration
@pytest.mark.parametrize("case", list(ACCEPTED))
def test_served_over_loopback_with_an_accepted_assertion(registry, case):
    reply = registry.call(ITI18, find_documents(), headers=[ACCEPTED[case]()])
    assert reply.fault is None, reply.fault and reply.fault.reason
    assert reply.body.tag == f"{{{QUERY}}}AdhocQueryResponse"


@pytest.mark.integration
@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_over_loopback_with_the_wsse_fault(registry, case):
    build, subcode, reason = REFUSED[case]
    reply = registry.call(ITI18, find_documents(), headers=[build()])
    assert reply.status_code == 400 and reply.fault is not None
    assert (reply.fault.code, reply.fault.subcode) == ("Sender", subcode)
    assert reason in reply.fault.reason and reply.fault.reason.startswith("XUA assertion refused: ")


@pytest.mark.integration
def test_required_endpoint_without_assertion_is_refused_over_loopback(registry):
    reply = registry.call(ITI18, find_documents())
    assert reply.status_code == 400 and (reply.fault.code, reply.fault.subcode) == ("Sender", wsse.INVALID_SECURITY)


@pytest.mark.integration
def test_not_required_endpoint_without_assertion_is_served_over_loopback(node):
    with SoapClient(node.url("/xca")) as client:
        reply = client.call(ITI38, find_documents())
    assert reply.fault is None and reply.body.tag == f"{{{QUERY}}}AdhocQueryResponse"


@pytest.mark.integration
def test_not_required_endpoint_still_refuses_a_bad_assertion_over_loopback(node):
    with SoapClient(node.url("/xca")) as client:
        reply = client.call(ITI38, find_documents(), headers=[REFUSED["tampered attribute"][0]()])
    assert reply.fault is not None and reply.fault.subcode == wsse.FAILED_CHECK


# --- forwarding through a real Initiating Gateway -----------------------------------------------

NORD, VEST = "urn:oid:2.16.578.1.12.4.1.7.1.2", "urn:oid:2.16.578.1.12.4.1.7.1.3"


@pytest.fixture(scope="module")
def communities():
    """Two fake Responding Gateways understanding wsse:Security (mustUnderstand="true" as the
    consumer sent it); Helse Vest itself requires a valid assertion (XuaGuard)."""
    nord = FakeCommunity(NORD, "Helse Nord", {"2.1": b"Helse Nord 1"})
    vest = FakeCommunity(VEST, "Helse Vest", {"3.1": b"Helse Vest 1"})
    nord_router, vest_router = nord.router(), vest.router()
    nord_router.understand(wsse.SECURITY)
    vest_router.understand(wsse.SECURITY)
    vest_router.add_before_dispatch(XuaGuard(real_time_config(), required=True))
    served = [serve(nord_router), serve(vest_router)]
    yield {NORD: (nord, served[0]), VEST: (vest, served[1])}
    for fake, server in zip((nord, vest), served):
        fake.release()
        server.stop()


@pytest.fixture(scope="module")
def national(tmp_path_factory, communities, issuer_cert_file):
    base = tmp_path_factory.mktemp("xua-national")
    communities_file = base / "communities.toml"
    communities_file.write_text("".join(
        f'[[community]]\nhome_community_id = "{home}"\nname = "{fake.name}"\nquery_url = "{server.url}/xca"\n\n'
        for home, (fake, server) in communities.items()), encoding="utf-8")
    env = {"XDSNO_COMMUNITIES_FILE": str(communities_file), "XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={issuer_cert_file}",
           "XDSNO_XUA_REQUIRED": "xca_initiating"}
    with running_server(base / "data", "--actor", "xca_initiating", env=env) as server, \
            SoapClient(server.url("/xca/initiating"), timeout=30) as client:
        yield client


def xs_declared_on_the_security_header(assertion: etree._Element) -> etree._Element:
    """The signed assertion with `xs` (used only in xsi:type values, named in the signature's
    InclusiveNamespaces) declared on wsse:Security instead: a copy keeping only the namespaces
    the element names use would lose it and break the digest at the next hop."""
    text = etree.tostring(assertion).decode().replace(' xmlns:xs="http://www.w3.org/2001/XMLSchema"', "", 1)
    return etree.fromstring(
        f'<wsse:Security xmlns:wsse="{wsse.WSSE_NS}" xmlns:xs="http://www.w3.org/2001/XMLSchema">{text}'
        "</wsse:Security>")


def received_assertion(fake: FakeCommunity) -> etree._Element:
    block = wsse.security_header(fake.headers[-1])
    assert block is not None, "the community got no wsse:Security"
    return block.find(f"{SAML}Assertion")


def exclusive_c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


@pytest.mark.integration
def test_query_forwards_the_same_signed_assertion_and_it_verifies_at_each_community(national, communities):
    assertion = signed_assertion(fresh_spec())
    reply = national.call(ITI18, find_documents(), headers=[security_header(assertion)])
    assert reply.fault is None and status_and_issues(reply.body) == (Status.SUCCESS, [])
    for fake, _ in communities.values():
        forwarded = received_assertion(fake)
        assert exclusive_c14n(forwarded) == exclusive_c14n(assertion)
        assert verify_assertion(forwarded, real_time_config()).user_name == "Kari Nordmann"


@pytest.mark.integration
def test_retrieve_forwards_the_assertion_with_namespaces_declared_above_it(national, communities):
    header = xs_declared_on_the_security_header(signed_assertion(fresh_spec()))
    assert verify_assertion(header, real_time_config())  # valid as sent
    reply = national.call(ITI43, retrieve_request([(NORD, "2.1"), (VEST, "3.1")]), headers=[header])
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert set(retrieved(reply)) == {"2.1", "3.1"}  # Helse Vest verified it before answering
    for fake, _ in communities.values():
        assert verify_assertion(wsse.security_header(fake.headers[-1]), real_time_config()).issuer == ISSUER


def envelope_declaring_xs(url: str, body: etree._Element, assertion: etree._Element) -> bytes:
    """An ITI-18 request whose Envelope, not the assertion, declares `xs` (as some consumer
    stacks hoist namespace declarations)."""
    text = etree.tostring(assertion).decode().replace(' xmlns:xs="http://www.w3.org/2001/XMLSchema"', "", 1)
    envelope = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap={"env": SOAP12_NS, "xs": XS})
    header = etree.SubElement(envelope, f"{{{SOAP12_NS}}}Header")
    header.extend(request_headers(ITI18, to=url, message_id="urn:uuid:" + str(uuid.uuid4())))
    security = etree.SubElement(header, wsse.SECURITY, nsmap={"wsse": wsse.WSSE_NS})
    security.append(etree.fromstring(text))
    etree.SubElement(envelope, f"{{{SOAP12_NS}}}Body").append(body)
    return etree.tostring(envelope)


@pytest.mark.integration
def test_forwarded_assertion_keeps_namespaces_declared_on_the_consumers_envelope(national, communities):
    data = envelope_declaring_xs(national.url, find_documents(), signed_assertion(fresh_spec()))
    assert b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi=' in data
    response = httpx.post(national.url, content=data, headers={"Content-Type": SOAP_CONTENT_TYPE}, timeout=30)
    assert response.status_code == 200, response.text
    body = read_message(io.BytesIO(response.content), response.headers["content-type"]).body
    assert status_and_issues(body) == (Status.SUCCESS, [])  # Helse Vest verified it before answering
    assert verify_assertion(received_assertion(communities[NORD][0]), real_time_config()).issuer == ISSUER


@pytest.mark.integration
def test_initiating_gateway_requiring_xua_refuses_before_asking_anyone(national, communities):
    asked = sum(len(fake.received) for fake, _ in communities.values())
    reply = national.call(ITI18, find_documents(), headers=[REFUSED["untrusted key"][0]()])
    assert reply.fault is not None and reply.fault.subcode == wsse.FAILED_AUTHENTICATION
    assert sum(len(fake.received) for fake, _ in communities.values()) == asked
