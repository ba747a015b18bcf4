"""ATNA secure node (ITI-19): TLS served with client certificates verified, and every outbound
call over mutual TLS.

Units: the tls_* settings, xdsno.tls contexts, the client-certificate middleware, the
communities file's TLS keys. Real servers (certificates made here): a registry with the XCA
Responding Gateway, a repository registering to it and a national Initiating Gateway — three
`xdsno serve` processes over HTTPS with client certificates required, calling each other with
their node certificates — and one node with client certificates optional.
"""
from __future__ import annotations

import hashlib
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from lxml import etree

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import LCM, RS, XDSB
from repository.registry_client import SoapRegistryClient
from scripts.federation_check import entries, find_documents, retrieve_request
from scripts.federation_data import ENTERPRISES, PATIENTS, EPIKRISE, provide_and_register_request
from soap.client import SoapClient
from tests.server import free_port, running_server
from xca_gateway.communities import CommunitiesFileError, parse_communities
from xdsno import devcerts
from xdsno.client_certificate import ENVIRON_KEY, ClientCertificateMiddleware
from xdsno.settings import SettingsError, load_settings
from xdsno.tls import client_context, community_tls, outbound_certificate, outbound_tls, server_context

ENTERPRISE = ENTERPRISES[0]
PATIENT = PATIENTS[0]
NATIONAL = "urn:oid:2.16.578.1.12.4.1.7.1.1"
PROVIDE_AND_REGISTER = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
RETRIEVE_DOCUMENT_SET = "urn:ihe:iti:2007:RetrieveDocumentSet"


@dataclass(frozen=True)
class Pki:
    folder: Path

    @property
    def ca(self) -> str:
        return str(self.folder / "ca" / "ca-cert.pem")

    @property
    def other_ca(self) -> str:
        return str(self.folder / "other-ca" / "ca-cert.pem")

    @property
    def crl(self) -> str:
        """The CA's CRL: the certificate `revoked` is on it."""
        return str(self.folder / "ca" / "ca-crl.pem")

    def cert(self, name: str) -> str:
        return str(self.folder / f"{name}-cert.pem")

    def key(self, name: str) -> str:
        return str(self.folder / f"{name}-key.pem")

    def context(self, name: str | None = "client", *, ca: str | None = None, crl: str = "") -> ssl.SSLContext:
        """A client trusting `ca` (default: the CA) presenting certificate `name` (None: none)."""
        return client_context(ca or self.ca, self.cert(name) if name else "", self.key(name) if name else "", crl)

    def serve_args(self, name: str, client_auth: str = "required") -> list[str]:
        return ["--tls-cert", self.cert(name), "--tls-key", self.key(name), "--tls-ca", self.ca,
                "--tls-client-auth", client_auth]


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    devcerts.create_ca(folder / "ca")
    devcerts.create_ca(folder / "other-ca", name="another CA")
    for name in ("registry", "repository", "national", "client", "revoked"):
        devcerts.create_node(name, folder / "ca", folder)
    devcerts.create_node("stranger", folder / "other-ca", folder)
    devcerts.revoke(folder / "revoked-cert.pem", folder / "ca")
    return Pki(folder)


def settings(tmp_path, **overrides):
    return load_settings(environ={}, overrides={"data_dir": tmp_path, **overrides})


# --- settings and contexts --------------------------------------------------------------------


def test_tls_is_off_by_default_and_base_url_follows_it(tmp_path, pki):
    assert not settings(tmp_path).tls_enabled
    assert settings(tmp_path).base_url.startswith("http://")
    on = settings(tmp_path, tls_cert_file=pki.cert("registry"), tls_ca_file=pki.ca)
    assert on.tls_enabled and on.tls_client_auth == "required" and on.base_url.startswith("https://")


def test_tls_settings_from_the_environment(tmp_path, pki):
    loaded = load_settings(environ={"XDSNO_TLS_CERT_FILE": pki.cert("registry"), "XDSNO_TLS_CA_FILE": pki.ca,
                                    "XDSNO_TLS_CLIENT_AUTH": "optional"}, overrides={"data_dir": tmp_path})
    assert (loaded.tls_cert_file, loaded.tls_client_auth) == (pki.cert("registry"), "optional")


@pytest.mark.parametrize("overrides, message", [
    ({"tls_client_auth": "sometimes"}, "tls_client_auth"),
    ({"tls_cert_file": "cert.pem"}, "needs tls_ca_file"),
    ({"tls_key_file": "key.pem"}, "tls_cert_file is not"),
    ({"tls_client_key_file": "key.pem"}, "tls_client_cert_file is not"),
])
def test_unusable_tls_settings_are_named(tmp_path, overrides, message):
    with pytest.raises(SettingsError, match=message):
        settings(tmp_path, **overrides)


def test_server_context_needs_tls_1_2_and_verifies_clients(tmp_path, pki):
    context = server_context(settings(tmp_path, tls_cert_file=pki.cert("registry"),
                                      tls_key_file=pki.key("registry"), tls_ca_file=pki.ca))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [ca["subject"] for ca in context.get_ca_certs()] == [
        ((("organizationName", "xdsno development"),), (("commonName", "xdsno development CA"),))]
    optional = settings(tmp_path, tls_cert_file=pki.cert("registry"), tls_key_file=pki.key("registry"),
                        tls_ca_file=pki.ca, tls_client_auth="optional")
    assert server_context(optional).verify_mode == ssl.CERT_OPTIONAL


@pytest.mark.parametrize("overrides, message", [
    ({"tls_cert_file": "/nowhere/cert.pem"}, "tls_cert_file/tls_key_file: /nowhere/cert.pem does not exist"),
    ({"tls_ca_file": "/nowhere/ca.pem"}, "tls_ca_file: /nowhere/ca.pem does not exist"),
    ({"tls_key_file": "KEY_OF_STRANGER"}, "tls_cert_file/tls_key_file: cannot load"),
])
def test_unloadable_tls_files_are_settings_errors(tmp_path, pki, overrides, message):
    values = {"tls_cert_file": pki.cert("registry"), "tls_key_file": pki.key("registry"), "tls_ca_file": pki.ca}
    values.update({k: pki.key("stranger") if v == "KEY_OF_STRANGER" else v for k, v in overrides.items()})
    with pytest.raises(SettingsError, match=message):
        server_context(settings(tmp_path, **values))


def test_outbound_presents_the_nodes_own_certificate_unless_a_client_one_is_set(tmp_path, pki):
    node = settings(tmp_path, tls_cert_file=pki.cert("registry"), tls_key_file=pki.key("registry"),
                    tls_ca_file=pki.ca)
    assert outbound_certificate(node) == (pki.cert("registry"), pki.key("registry"))
    client = settings(tmp_path, tls_cert_file=pki.cert("registry"), tls_key_file=pki.key("registry"),
                      tls_ca_file=pki.ca, tls_client_cert_file=pki.cert("client"),
                      tls_client_key_file=pki.key("client"))
    assert outbound_certificate(client) == (pki.cert("client"), pki.key("client"))
    context = outbound_tls(node)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1  # the configured CA only, not the system's
    assert outbound_tls(node) is context  # one per process and files


def test_a_missing_client_certificate_is_a_settings_error(tmp_path, pki):
    with pytest.raises(SettingsError, match="tls_client_cert_file/tls_client_key_file: /nowhere.pem"):
        outbound_tls(settings(tmp_path, tls_client_cert_file="/nowhere.pem"))


def test_a_community_may_override_ca_and_certificate(tmp_path, pki):
    node = settings(tmp_path, tls_cert_file=pki.cert("national"), tls_key_file=pki.key("national"),
                    tls_ca_file=pki.ca)
    directory = parse_communities({"community": [
        {"home_community_id": "urn:oid:1.2.3", "name": "own", "query_url": "https://a/xca"},
        {"home_community_id": "urn:oid:1.2.4", "name": "other", "query_url": "https://b/xca",
         "tls_ca_file": pki.other_ca, "tls_client_cert_file": pki.cert("stranger"),
         "tls_client_key_file": pki.key("stranger")},
    ]})
    own, other = list(directory)
    assert community_tls(node, own) is outbound_tls(node)
    assert community_tls(node, other) is client_context(pki.other_ca, pki.cert("stranger"), pki.key("stranger"))


def test_communities_file_tls_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "communities.toml").write_text(
        '[[community]]\nhome_community_id = "urn:oid:1.2.3"\nname = "n"\nquery_url = "https://a/xca"\n'
        'tls_ca_file = "certs/ca.pem"\ntls_client_cert_file = "/abs/cert.pem"\n')
    from xca_gateway.communities import load_communities

    community, = load_communities(tmp_path / "communities.toml")
    assert community.tls_ca_file == str(tmp_path / "certs" / "ca.pem")
    assert community.tls_client_cert_file == "/abs/cert.pem" and community.tls_client_key_file == ""


def test_communities_file_tls_values_must_be_strings():
    with pytest.raises(CommunitiesFileError, match="tls_ca_file must be a non-empty string"):
        parse_communities({"community": [{"home_community_id": "urn:oid:1.2.3", "name": "n",
                                          "query_url": "https://a/xca", "tls_ca_file": 5}]})


# --- revocation (tls_crl_file) ----------------------------------------------------------------


def node_settings(tmp_path, pki, name: str = "registry", **overrides):
    return settings(tmp_path, **{"tls_cert_file": pki.cert(name), "tls_key_file": pki.key(name),
                                 "tls_ca_file": pki.ca, **overrides})


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> tuple[str, str]:
    """One TLS handshake over a socket pair: (server's error, client's error), "" for none."""
    server_end, client_end = socket.socketpair()
    errors = {"server": "", "client": ""}

    def serve():
        try:
            with server.wrap_socket(server_end, server_side=True) as tls:
                tls.sendall(b"x")
        except (ssl.SSLError, OSError) as exc:
            errors["server"] = str(exc)
            server_end.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(client_end, server_hostname="127.0.0.1") as tls:
            tls.recv(1)  # TLS 1.3: the server's verdict on our certificate arrives after our handshake
    except (ssl.SSLError, OSError) as exc:
        errors["client"] = str(exc)
    finally:
        client_end.close()
        thread.join(10)
    return errors["server"], errors["client"]


def expired_crl(pki: Pki, folder: Path) -> str:
    """The CA's CRL as it was a week ago: past its next update yesterday."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    ca_cert, ca_key = devcerts.load_ca(Path(pki.ca).parent)
    now = datetime.now(timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
           .last_update(now - timedelta(days=8)).next_update(now - timedelta(days=1)).sign(ca_key, hashes.SHA256()))
    path = folder / "expired-crl.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_crl_file_must_exist_and_hold_crls(tmp_path, pki):
    with pytest.raises(SettingsError, match="tls_crl_file: /nowhere/crl.pem does not exist"):
        node_settings(tmp_path, pki, tls_crl_file="/nowhere/crl.pem")
    with pytest.raises(SettingsError, match=r"tls_crl_file: .*ca-cert.pem holds no PEM CRL"):
        node_settings(tmp_path, pki, tls_crl_file=pki.ca)
    with pytest.raises(SettingsError, match="tls_crl_file needs tls_ca_file"):
        settings(tmp_path, tls_crl_file=pki.crl)


def test_several_crls_in_one_file_are_read(tmp_path, pki):
    both = tmp_path / "crls.pem"
    both.write_text(Path(pki.crl).read_text() + devcerts.create_crl(Path(pki.other_ca).parent,
                                                                     tmp_path / "other-crl.pem").read_text())
    from xdsno.revocation import load_crls

    assert [crl.issuer.rfc4514_string() for crl in load_crls(str(both))] == [
        "CN=xdsno development CA,O=xdsno development", "CN=another CA,O=xdsno development"]


def test_contexts_check_the_peers_certificate_against_the_crl(tmp_path, pki):
    node = node_settings(tmp_path, pki, tls_crl_file=pki.crl)
    for context in (server_context(node), outbound_tls(node)):
        assert context.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF
        assert context.cert_store_stats()["crl"] == 1
    assert not server_context(node_settings(tmp_path, pki)).verify_flags & ssl.VERIFY_CRL_CHECK_LEAF


def test_a_trusted_ca_without_a_crl_stops_the_start(tmp_path, pki):
    bundle = tmp_path / "cas.pem"
    bundle.write_text(Path(pki.ca).read_text() + Path(pki.other_ca).read_text())
    node = node_settings(tmp_path, pki, tls_ca_file=str(bundle), tls_crl_file=pki.crl)
    with pytest.raises(SettingsError, match="tls_crl_file: .* has no CRL of CN=another CA,O=xdsno development"):
        server_context(node)


def test_a_revoked_client_certificate_is_refused_by_the_server(tmp_path, pki):
    server = server_context(node_settings(tmp_path, pki, tls_crl_file=pki.crl))
    assert handshake(server, pki.context("client")) == ("", "")
    refused, _ = handshake(server, pki.context("revoked"))
    assert "certificate verify failed: certificate revoked" in refused


def test_a_revoked_server_certificate_is_refused_outbound(tmp_path, pki):
    outbound = outbound_tls(node_settings(tmp_path, pki, "client", tls_crl_file=pki.crl))
    assert handshake(server_context(node_settings(tmp_path, pki, "registry")), outbound) == ("", "")
    _, refused = handshake(server_context(node_settings(tmp_path, pki, "revoked")), outbound)
    assert "certificate verify failed: certificate revoked" in refused
    # without tls_crl_file the same certificate passes: the CRL is what refuses it
    unchecked = outbound_tls(node_settings(tmp_path, pki, "client"))
    assert handshake(server_context(node_settings(tmp_path, pki, "revoked")), unchecked) == ("", "")


def test_an_expired_crl_refuses_every_certificate_of_its_ca(tmp_path, pki):
    server = server_context(node_settings(tmp_path, pki, tls_crl_file=expired_crl(pki, tmp_path)))
    refused, _ = handshake(server, pki.context("client"))
    assert "certificate verify failed: CRL has expired" in refused


# --- the client certificate in the environ ----------------------------------------------------


class FakeTlsSocket:
    def __init__(self, der: bytes | None):
        self._der = der

    def getpeercert(self, binary_form: bool = False):
        return self._der


def call(app, path: str = "/registry", der: bytes | None = None, **environ):
    seen, status = {}, []

    def inner(env, start_response):
        seen.update(env)
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = app(inner)
    body = b"".join(wrapped({"PATH_INFO": path, "gunicorn.socket": FakeTlsSocket(der), **environ},
                            lambda s, h: status.append(s)))
    return status[0], body, seen


def der_of(path: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(Path(path).read_bytes()).public_bytes(Encoding.DER)


def test_verified_client_certificate_reaches_the_app(pki):
    status, _, environ = call(lambda app: ClientCertificateMiddleware(app, require=True),
                              der=der_of(pki.cert("repository")))
    assert status == "200 OK"
    certificate = environ[ENVIRON_KEY]
    assert certificate.subject == environ["SSL_CLIENT_S_DN"] == "CN=repository,O=xdsno development"
    assert certificate.issuer == environ["SSL_CLIENT_I_DN"] == "CN=xdsno development CA,O=xdsno development"
    assert certificate.common_name == "repository" and len(certificate.sha256) == 64
    assert environ["SSL_CLIENT_VERIFY"] == "SUCCESS" and environ["HTTPS"] == "on"
    assert int(environ["SSL_CLIENT_M_SERIAL"], 16) > 0


def test_without_a_certificate_only_health_answers_when_one_is_required():
    middleware = lambda app: ClientCertificateMiddleware(app, require=True)  # noqa: E731
    status, body, _ = call(middleware, "/registry")
    assert status == "403 Forbidden" and b"client certificate" in body
    status, _, environ = call(middleware, "/health")
    assert status == "200 OK" and environ[ENVIRON_KEY] is None and environ["SSL_CLIENT_VERIFY"] == "NONE"
    assert call(middleware, "/healthz")[0] == "403 Forbidden"


def test_values_set_before_are_not_trusted():
    middleware = lambda app: ClientCertificateMiddleware(app, require=False)  # noqa: E731
    status, _, environ = call(middleware, "/registry", SSL_CLIENT_S_DN="CN=forged", SSL_CLIENT_VERIFY="SUCCESS")
    assert status == "200 OK"
    assert "SSL_CLIENT_S_DN" not in environ and environ["SSL_CLIENT_VERIFY"] == "NONE"


# --- real servers over mutual TLS -------------------------------------------------------------


@dataclass(frozen=True)
class Nodes:
    registry: str  # registry + XCA Responding Gateway
    repository: str
    national: str  # XCA Initiating Gateway


@pytest.fixture(scope="module")
def nodes(pki, tmp_path_factory):
    """Three nodes calling each other over mutual TLS with their own node certificates."""
    folder = tmp_path_factory.mktemp("nodes")
    ports = {name: free_port() for name in ("registry", "repository", "national")}
    url = {name: f"https://127.0.0.1:{port}" for name, port in ports.items()}
    (folder / "communities.toml").write_text(
        f'[[community]]\nhome_community_id = "{ENTERPRISE.home_community_id}"\nname = "{ENTERPRISE.name}"\n'
        f'query_url = "{url["registry"]}/xca"\n', encoding="utf-8")
    env = {"XDSNO_ALLOW_SYNTHETIC_PERSONS": "true"}
    identity = ["--home-community-id", ENTERPRISE.home_community_id,
                "--repository-unique-id", ENTERPRISE.repository_unique_id]
    with running_server(folder / "registry", *pki.serve_args("registry"), *identity, "--actor", "registry",
                        "--actor", "xca_responding", port=ports["registry"], tls=pki.context(), env={
                            **env, "XDSNO_RESPONDING_REPOSITORIES":
                            f"{ENTERPRISE.repository_unique_id}={url['repository']}/repository"}), \
            running_server(folder / "repository", *pki.serve_args("repository"), *identity, "--actor",
                           "repository", port=ports["repository"], tls=pki.context(),
                           env={**env, "XDSNO_REGISTRY_URL": f"{url['registry']}/registry"}), \
            running_server(folder / "national", *pki.serve_args("national"), "--home-community-id", NATIONAL,
                           "--actor", "xca_initiating", port=ports["national"], tls=pki.context(),
                           env={**env, "XDSNO_COMMUNITIES_FILE": str(folder / "communities.toml")}):
        yield Nodes(url["registry"], url["repository"], url["national"])


def test_a_client_with_a_certificate_of_the_ca_is_answered_and_named(nodes, pki):
    response = httpx.get(nodes.registry + "/health", verify=pki.context())
    assert response.status_code == 200
    assert response.json()["tls"] == {"client_certificate": "CN=client,O=xdsno development"}
    assert response.json()["actors"]["registry"]["url"].startswith("https://")


def test_without_a_client_certificate_the_connection_is_refused(nodes, pki):
    with pytest.raises(httpx.TransportError, match="CERTIFICATE_REQUIRED"):
        httpx.get(nodes.registry + "/health", verify=pki.context(None))


def test_without_a_client_certificate_the_tls_1_2_handshake_fails(nodes, pki):
    # TLS 1.3 reports the refusal after the client's handshake has finished; 1.2 in the handshake
    context = ssl.create_default_context(cafile=pki.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    port = int(nodes.registry.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match="ALERT_HANDSHAKE_FAILURE"):
            context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_a_certificate_of_another_ca_is_refused(nodes, pki):
    with pytest.raises(httpx.TransportError, match="UNKNOWN_CA"):
        httpx.get(nodes.registry + "/health", verify=pki.context("stranger"))


def test_the_client_verifies_the_server(nodes, pki):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(nodes.registry + "/health", verify=pki.context("client", ca=pki.other_ca))


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_below_tls_1_2_nothing_is_served(nodes, pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(pki.ca)
    context.load_cert_chain(pki.cert("client"), pki.key("client"))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # this client would offer TLS 1.1: the server refuses
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    port = int(nodes.registry.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):
            context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_to_the_tls_port_fails(nodes):
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.get(nodes.registry.replace("https://", "http://") + "/health", timeout=5)


@pytest.fixture(scope="module")
def published(nodes, pki):
    """ITI-41 to the repository node, which registers with ITI-42 to the registry node (mTLS)."""
    body, attachments, submission = provide_and_register_request(ENTERPRISE, PATIENT, (EPIKRISE,))
    with SoapClient(nodes.repository + "/repository", timeout=60, verify=pki.context()) as client:
        reply = client.call(PROVIDE_AND_REGISTER, body, attachments=attachments, mtom=True).raise_for_fault()
    assert read_registry_response(reply.body) == (Status.SUCCESS, [])
    return {entry.unique_id for entry in submission.document_entries}


def test_repository_registers_to_the_registry_over_mutual_tls(nodes, pki, published):
    with SoapClient(nodes.registry + "/registry", timeout=60, verify=pki.context()) as client:
        reply = client.call(REGISTRY_STORED_QUERY, find_documents(PATIENT.patient_id)).raise_for_fault()
    assert published <= {entry["unique_id"] for entry in entries(reply.body)}


def test_a_node_whose_certificate_the_registry_does_not_trust_cannot_register(nodes, pki):
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest")
    for context in (pki.context("stranger"), pki.context("client", ca=pki.other_ca)):
        client = SoapRegistryClient(nodes.registry + "/registry", timeout=10, verify=context)
        status, issues = read_registry_response(client.register(request))
        client.close()
        assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.REGISTRY_NOT_AVAILABLE]


def test_initiating_gateway_queries_and_retrieves_over_mutual_tls(nodes, pki, published):
    """national → registry node's Responding Gateway (ITI-38/39) → repository node (ITI-43)."""
    with SoapClient(nodes.national + "/xca/initiating", timeout=60, verify=pki.context()) as client:
        reply = client.call(REGISTRY_STORED_QUERY, find_documents(PATIENT.patient_id)).raise_for_fault()
        status, issues = read_registry_response(reply.body)
        found = [entry for entry in entries(reply.body) if entry["unique_id"] in published]
        assert status is Status.SUCCESS, issues
        assert found and {entry["home"] for entry in found} == {ENTERPRISE.home_community_id}
        reply = client.call(RETRIEVE_DOCUMENT_SET, retrieve_request(found), mtom=True).raise_for_fault()
        assert read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse"))[0] is Status.SUCCESS
        for response, entry in zip(reply.body.iterfind(f"{{{XDSB}}}DocumentResponse"), found):
            data = reply.content_of(response.find(f"{{{XDSB}}}Document")).read_bytes()
            assert hashlib.sha1(data).hexdigest() == entry["hash"]
        reply.close()


def test_optional_client_certificates_open_only_health(pki, tmp_path):
    with running_server(tmp_path / "data", *pki.serve_args("registry", "optional"), "--actor", "registry",
                        tls=pki.context()) as node:
        anonymous = pki.context(None)
        health = httpx.get(node.url("/health"), verify=anonymous)
        assert health.status_code == 200 and health.json()["tls"] == {"client_certificate": None}
        refused = httpx.post(node.url("/registry"), verify=anonymous, content=b"<x/>",
                             headers={"Content-Type": "application/soap+xml"})
        assert refused.status_code == 403
        with SoapClient(node.url("/registry"), timeout=30, verify=pki.context()) as client:
            reply = client.call(REGISTRY_STORED_QUERY, find_documents(PATIENT.patient_id))
        assert reply.fault is None and read_registry_response(reply.body)[0] is Status.SUCCESS
        with pytest.raises(httpx.TransportError, match="UNKNOWN_CA"):  # one it is shown is still verified
            httpx.get(node.url("/health"), verify=pki.context("stranger"))


# --- refused connections are audited (ITI TF-2 3.20: node authentication failure) -------------


def security_alerts(data_dir: Path, count: int) -> list:
    """The node's ITI-19 records once there are `count` (the worker writes each right after
    refusing; the client may see the refusal first), or what there is after 60 s."""
    from registry.store import open_engine
    from xdsno.audit.setup import audit_database_url
    from xdsno.audit.store import AuditStore

    store = AuditStore(open_engine(audit_database_url(load_settings(environ={}, overrides={"data_dir": data_dir}))))
    deadline = time.monotonic() + 60
    while True:
        alerts = store.records(transactions=["ITI-19"])
        if len(alerts) >= count or time.monotonic() > deadline:
            store.engine.dispose()
            return alerts
        time.sleep(0.1)


def test_every_refused_connection_leaves_one_security_alert(pki, tmp_path):
    with running_server(tmp_path / "data", *pki.serve_args("registry"), "--actor", "registry", tls=pki.context(),
                        env={"XDSNO_TLS_CRL_FILE": pki.crl}) as node:
        port = int(node.base_url.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # a port scan: no handshake
        expected = []
        for client, error in ((pki.context("stranger"), "certificate verify failed: unable to get local issuer "
                                                         "certificate"),
                              (pki.context(None), "peer did not return a certificate"),
                              (pki.context("revoked"), "certificate verify failed: certificate revoked")):
            with pytest.raises(httpx.TransportError):
                httpx.get(node.url("/health"), verify=client, timeout=10)
            expected.append(error)
            assert [alert.outcome_description for alert in security_alerts(node.data_dir, len(expected))] == expected
        assert httpx.get(node.url("/health"), verify=pki.context(), timeout=10).status_code == 200
        alerts = security_alerts(node.data_dir, len(expected))
    assert len(alerts) == 3
    for alert in alerts:
        assert (alert.event.event_id.code, alert.event.type_code.code, alert.event.action) == ("110113", "110126", "E")
        assert int(alert.outcome) == 4 and alert.requestor.address == "127.0.0.1"
        assert alert.destination == node.base_url


def test_federation_check_passes_over_mutual_tls(tmp_path):
    """scripts/federation.py --tls, with one enterprise to keep it short."""
    from scripts.federation import publish_documents, start_federation
    from scripts.federation_check import run_check

    with start_federation(tmp_path, enterprises=ENTERPRISES[:1], tls=True) as federation:
        assert federation.initiating_url.startswith("https://")
        assert 'query_url = "https://' in federation.communities_file.read_text()
        assert publish_documents(federation)
        assert run_check(federation) == 0


@pytest.mark.integration
def test_federation_check_passes_over_mutual_tls_with_xua_required(tmp_path, capsys):
    """scripts/federation.py --tls --xua, with two enterprises: every request carries an
    assertion of the development issuer, and the check shows the refusals."""
    from scripts.federation import publish_documents, start_federation
    from scripts.federation_check import run_check

    with start_federation(tmp_path, enterprises=ENTERPRISES[:2], tls=True, xua=True) as federation:
        assert federation.xua.node_env()["XDSNO_XUA_REQUIRED"] == "*"
        assert publish_documents(federation)
        assert run_check(federation) == 0
    out = capsys.readouterr().out
    assert "XUA: ITI-18 without an assertion: refused, XUA: this endpoint requires a SAML 2.0" in out
    assert "XUA: ITI-18 with an assertion naming another patient: refused by the access policy" in out
    assert re.search(r"XUA: block at Helse Vest for HPR \d+: TREAT sees 2 document\(s\) ok; BTG sees 3 ok", out)
