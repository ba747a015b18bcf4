"""xdsno.admin_auth, xdsno.admin_tokens, xdsno.citizen_auth: who may call /admin/* and read
/innsynslogg — admin bearer tokens, client-certificate subjects, loopback by default, and the
citizen's own XUA assertion on the innsynslogg. Every refusal is audited.

Units call the guard as WSGI; the integration tests run real nodes over loopback (one with a
tokens file and XUA, one with nothing configured, one over mutual TLS)."""
from __future__ import annotations

import base64
import json
import os
import re
from datetime import timedelta
from types import SimpleNamespace
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from lxml import etree

from registry.store import open_engine
from tests.server import running_server
from xdsno import devcerts
from xdsno.admin_auth import AdminAccess, AdminGuard, admin_access
from xdsno.admin_tokens import TokenFile, TokenFileError, add_token, parse_tokens, token_hash
from xdsno.audit.record import Outcome
from xdsno.audit.store import AuditStore
from xdsno.cli import main
from xdsno.client_certificate import ENVIRON_KEY as CERTIFICATE_KEY
from xdsno.client_certificate import ClientCertificate
from xdsno.settings import SettingsError, load_settings
from xdsno.tls import client_context
from xdsno.xua import XuaConfig
from xdsno.xua import names as n

from .xua_support import default_attributes, fresh_spec, issuer_keys, signed_assertion

PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
OTHER_PATIENT = "05086900124^^^&2.16.578.1.12.4.1.4.1&ISO"
HELSENORGE = "https://helsenorge.test.no/saml"
HELSENORGE_KEYS = "Helsenorge test signing"
ADMIN_PATHS = ["/admin/patients", f"/admin/blocks?patient={PATIENT}", f"/admin/audit?patient={PATIENT}",
               f"/innsynslogg?patient={PATIENT}"]
SEND_TOKEN = "Authorization: Bearer <admin token> (made by `xdsno admin token`)"
SEND_SAML = "Authorization: SAML <base64 of the citizen's own XUA assertion naming this patient>"
SEND_CERT = "a TLS client certificate whose subject or common name is in admin_client_subjects"
SEND_LOOPBACK = "the request from this node's own machine (loopback)"


# --- citizen assertions ------------------------------------------------------------------------


def citizen_spec(patient: str = PATIENT, **changes):
    """A Helsenorge-like citizen assertion: a name and a patient, no HPR number, no organisation."""
    attributes = {n.SUBJECT_ID[0]: ["Ola Innbygger"], n.RESOURCE_ID[0]: [patient],
                  n.PURPOSE_OF_USE[0]: [("13", "1.0.14265.1", "Patient")]}
    return fresh_spec(issuer=HELSENORGE, name_id="Ola Innbygger", attributes=attributes, **changes)


def saml_header(assertion: etree._Element) -> dict[str, str]:
    return {"Authorization": "SAML " + base64.b64encode(etree.tostring(assertion)).decode()}


def citizen(patient: str = PATIENT, **changes) -> dict[str, str]:
    return saml_header(signed_assertion(citizen_spec(patient, **changes), issuer_keys(HELSENORGE_KEYS)))


def personnel() -> dict[str, str]:
    """A HelseID-like health personnel assertion (HPR number) for the same patient."""
    spec = fresh_spec(issuer=HELSENORGE, attributes={**default_attributes(), n.RESOURCE_ID[0]: [PATIENT]})
    return saml_header(signed_assertion(spec, issuer_keys(HELSENORGE_KEYS)))


def unsigned() -> dict[str, str]:
    assertion = signed_assertion(citizen_spec(), issuer_keys(HELSENORGE_KEYS))
    signature = assertion.find(f"{{{n.DS}}}Signature")
    assertion.remove(signature)
    return saml_header(assertion)


def xua_config() -> XuaConfig:
    return XuaConfig({HELSENORGE: (issuer_keys(HELSENORGE_KEYS).cert,)}, audiences={n.HELSEID_AUDIENCE})


# --- the guard as WSGI ---------------------------------------------------------------------------


def call(guard: AdminGuard, *, address: str = "127.0.0.1", headers: dict[str, str] | None = None,
         query: str = urlencode({"patient": PATIENT}), certificate: ClientCertificate | None = None):
    """(status, headers, JSON body or None, environ) of one call through `guard`."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "", "QUERY_STRING": query, "REMOTE_ADDR": address,
               "xdsno.audit": {}}
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in (headers or {}).items()})
    if certificate is not None:
        environ[CERTIFICATE_KEY] = certificate
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered.update(status=status, headers=response_headers)

    body = b"".join(guard(environ, start_response))
    return answered["status"], answered["headers"], json.loads(body), environ


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


def certificate(common_name: str, organisation: str = "xdsno development") -> ClientCertificate:
    return ClientCertificate(subject=f"CN={common_name},O={organisation}", issuer="CN=xdsno development CA",
                             serial="1", common_name=common_name, sha256="00")


@pytest.fixture
def tokens(tmp_path):
    path = tmp_path / "admin-tokens"
    token = add_token(path, "ops laptop")
    return path, token


def test_without_configuration_loopback_callers_are_let_in_and_others_refused():
    guard = AdminGuard(ok_app, AdminAccess())
    status, _, body, environ = call(guard)
    assert status == "200 OK" and body == {"ok": True}
    assert environ["xdsno.audit"]["decision"] == {"denied": False, "rule": "admin-access", "reason": "loopback 127.0.0.1"}
    assert call(guard, address="::1")[0] == "200 OK"
    status, headers, body, environ = call(guard, address="10.1.2.3")
    assert status == "403 Forbidden" and not [h for h in headers if h[0] == "WWW-Authenticate"]
    assert body == {"error": "no admin credentials are configured on this node (admin_tokens_file, "
                             "admin_client_subjects): only loopback callers are let in", "send": [SEND_LOOPBACK]}
    assert environ["xdsno.audit"]["decision"]["denied"] is True


def test_a_configured_token_is_required_even_from_loopback(tokens):
    path, token = tokens
    guard = AdminGuard(ok_app, AdminAccess(tokens=TokenFile(path)))
    status, _, _, environ = call(guard, headers={"Authorization": f"Bearer {token}"})
    assert status == "200 OK"
    assert environ["xdsno.audit"]["decision"]["reason"] == "admin token 'ops laptop'"
    status, headers, body, _ = call(guard)
    assert (status, ("WWW-Authenticate", 'Bearer realm="xdsno"') in headers) == ("401 Unauthorized", True)
    assert body == {"error": "credentials are required", "send": [SEND_TOKEN]}
    status, headers, body, environ = call(guard, headers={"Authorization": f"Bearer {token}x"})
    assert status == "401 Unauthorized"
    assert ("WWW-Authenticate", 'Bearer realm="xdsno", error="invalid_token"') in headers
    assert body == {"error": "the bearer token is not valid here", "send": [SEND_TOKEN]}
    assert environ["xdsno.audit"]["decision"] == {"denied": True, "rule": "admin-access",
                                                  "reason": "the bearer token is not valid here"}
    assert call(guard, headers={"Authorization": "Bearer"})[0] == "401 Unauthorized"
    assert call(guard, headers={"Authorization": f"Basic {token}"})[0] == "401 Unauthorized"


def test_a_client_certificate_is_let_in_by_its_subject_or_common_name():
    by_dn = AdminGuard(ok_app, AdminAccess(client_subjects=("CN=ops,O=xdsno development",)))
    assert call(by_dn, certificate=certificate("ops"), address="10.1.2.3")[0] == "200 OK"
    assert call(by_dn, certificate=certificate("ops", "elsewhere"))[0] == "403 Forbidden"
    by_cn = AdminGuard(ok_app, AdminAccess(client_subjects=("ops",)))
    status, _, _, environ = call(by_cn, certificate=certificate("ops", "elsewhere"))
    assert environ["xdsno.audit"]["decision"]["reason"] == "client certificate CN=ops,O=elsewhere"
    # a common name that looks like a DN is no DN
    assert call(by_dn, certificate=certificate("CN=ops,O=xdsno development"))[0] == "403 Forbidden"
    status, headers, body, _ = call(by_dn, certificate=certificate("stranger"))
    assert (status, body) == ("403 Forbidden", {
        "error": "client certificate 'CN=stranger,O=xdsno development' is not in admin_client_subjects",
        "send": [SEND_CERT]})
    assert not [h for h in headers if h[0] == "WWW-Authenticate"]
    # configured subjects: loopback alone is no longer enough
    assert call(by_dn)[0::2] == ("403 Forbidden", {"error": "credentials are required", "send": [SEND_CERT]})


def test_with_a_token_file_a_refused_certificate_may_still_send_a_token(tokens):
    path, token = tokens
    guard = AdminGuard(ok_app, AdminAccess(tokens=TokenFile(path), client_subjects=("ops",)))
    status, headers, body, _ = call(guard, certificate=certificate("stranger"))
    assert status == "401 Unauthorized" and body["send"] == [SEND_TOKEN, SEND_CERT]
    assert call(guard, certificate=certificate("stranger"), headers={"Authorization": f"Bearer {token}"})[0] == "200 OK"


# --- the citizen's own innsynslogg ---------------------------------------------------------------


def access_log_guard(**access) -> AdminGuard:
    return AdminGuard(ok_app, AdminAccess(citizen=xua_config(), **access), access_log=True)


def test_a_citizen_reads_their_own_innsynslogg():
    status, _, _, environ = call(access_log_guard(), address="10.1.2.3", headers=citizen())
    assert status == "200 OK"
    assert environ["xdsno.xua"].user_name == "Ola Innbygger"  # the audit record's user
    assert environ["xdsno.audit"]["decision"]["reason"] == "citizen 'Ola Innbygger' on their own innsynslogg"
    # the same patient written with an identifier type code: the id and its assigning authority decide
    same_patient = urlencode({"patient": PATIENT + "^NNNOR"})
    assert call(access_log_guard(), headers=citizen(), query=same_patient)[0] == "200 OK"
    assert call(access_log_guard(), headers=citizen(), query="")[0] == "200 OK"  # the log answers 400 itself


def test_a_citizen_cannot_read_another_patients_innsynslogg():
    status, headers, body, environ = call(access_log_guard(), headers=citizen(),
                                          query=urlencode({"patient": OTHER_PATIENT}))
    assert (status, body["error"]) == ("403 Forbidden", "a citizen sees only their own innsynslogg: the patient "
                                                        "asked for is not the assertion's patient (resource-id)")
    assert body["send"] == [SEND_SAML, SEND_LOOPBACK]
    assert environ["xdsno.xua"].user_name == "Ola Innbygger"  # who asked, for the audit record
    both = urlencode([("patient", PATIENT), ("patient", OTHER_PATIENT)])
    assert call(access_log_guard(), headers=citizen(), query=both)[0] == "403 Forbidden"



def test_a_personnel_assertion_does_not_open_the_innsynslogg():
    status, _, body, _ = call(access_log_guard(), headers=personnel())
    assert (status, body["error"]) == ("403 Forbidden", "a health personnel assertion (with an HPR number) does "
                                       "not open the innsynslogg; a citizen sends their own Helsenorge assertion, "
                                       "an administrator an admin bearer token")


@pytest.mark.parametrize("headers, error", [
    (lambda: citizen(lifetime=-timedelta(hours=1)), "XUA assertion refused: .* has expired: NotOnOrAfter"),
    (unsigned, r"XUA assertion refused: the assertion is not signed \(no ds:Signature in it\)$"),
    (lambda: {"Authorization": "SAML not*base64"}, "Authorization: SAML needs the base64 of the saml:Assertion XML$"),
    (lambda: {"Authorization": "SAML " + base64.b64encode(b"<a>").decode()},
     "the SAML credentials are not an XML assertion: "),
])
def test_an_expired_unsigned_or_unreadable_assertion_is_unauthorized(headers, error):
    status, response_headers, body, _ = call(access_log_guard(), headers=headers())
    assert status == "401 Unauthorized" and re.match(error, body["error"]), body
    assert ("WWW-Authenticate", 'SAML realm="xdsno", error="invalid_token"') in response_headers


def test_assertions_open_only_the_innsynslogg():
    admin = AdminGuard(ok_app, AdminAccess(citizen=xua_config()))
    status, _, body, _ = call(admin, headers=citizen(), address="10.1.2.3")
    assert status == "403 Forbidden" and body["send"] == [SEND_LOOPBACK]


# --- the tokens file ---------------------------------------------------------------------------


def test_a_new_token_is_stored_as_its_hash_with_its_label(tmp_path):
    path = tmp_path / "tokens"
    token = add_token(path, "ops laptop")
    assert token not in path.read_text()
    assert parse_tokens(path.read_text())[0].sha256 == token_hash(token)
    assert parse_tokens(path.read_text())[0].label == "ops laptop"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert add_token(path, "") != token and len(parse_tokens(path.read_text())) == 2


def test_a_malformed_tokens_file_is_named():
    with pytest.raises(TokenFileError, match="^admin_tokens_file line 2: expected the 64 hex digits"):
        parse_tokens("# comment\nnot-a-hash ops\n")
    with pytest.raises(TokenFileError, match="printable text"):
        add_token(Path("/nonexistent/x"), "two\nlines")


def test_the_tokens_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "tokens"
    first = add_token(path, "first")
    tokens = TokenFile(path)
    second = add_token(path, "second")
    assert tokens.match(second).label == "second" and tokens.match(first).label == "first"
    path.write_text(path.read_text().replace(token_hash(first), "0" * 64))
    assert tokens.match(first) is None and tokens.match(second) is not None
    path.write_text("broken\n")
    assert tokens.match(second) is None  # a broken file opens nothing
    path.unlink()
    assert tokens.match(second) is None


def test_a_missing_tokens_file_stops_the_node(tmp_path):
    settings = load_settings(environ={"XDSNO_ADMIN_TOKENS_FILE": str(tmp_path / "none")})
    with pytest.raises(SettingsError, match="^admin_tokens_file .*none cannot be read .*`xdsno admin token` creates"):
        admin_access(settings)


def test_admin_token_command_prints_the_token_once(tmp_path, capsys):
    path = tmp_path / "tokens"
    assert main(["admin", "token", "--label", "ops", "--tokens-file", str(path)]) == 0
    out, err = capsys.readouterr()
    assert TokenFile(path).match(out.strip()).label == "ops" and out.strip() not in err
    assert main(["admin", "token"]) == 2
    assert "set admin_tokens_file (XDSNO_ADMIN_TOKENS_FILE) or give --tokens-file" in capsys.readouterr().err


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, message", [
    ({"admin_client_subjects": "ops"}, "admin_client_subjects needs mutual TLS"),
    ({"admin_client_subjects": "ops", "tls_cert_file": "c.pem", "tls_ca_file": "ca.pem", "tls_client_auth": "none"},
     "admin_client_subjects needs mutual TLS"),
    ({"admin_client_subjects": "CN=ops;O=x", "tls_cert_file": "c.pem", "tls_ca_file": "ca.pem"},
     "admin_client_subjects: 'CN=ops;O=x' is not an RFC 4514 distinguished name"),
])
def test_unusable_admin_settings_are_named(values, message):
    with pytest.raises(SettingsError, match="^" + message):
        load_settings(environ={"XDSNO_" + k.upper(): v for k, v in values.items()})


# --- real nodes over loopback -------------------------------------------------------------------

#: (path, query) of every guarded endpoint of a registry node
ENDPOINTS = [("/admin/patients", {}), ("/admin/blocks", {"patient": PATIENT}), ("/admin/audit", {"patient": PATIENT}),
             ("/innsynslogg", {"patient": PATIENT})]
ENDPOINT_IDS = [path for path, _ in ENDPOINTS]


def audit_store(server) -> AuditStore:
    return AuditStore(open_engine(f"sqlite:///{server.data_dir / 'audit.sqlite3'}"))


def one_record(store: AuditStore, request):
    """(the answer of `request`, the one audit record it left)."""
    before = store.count()
    answer = request()
    assert store.count() == before + 1
    return answer, store.records(limit=100000)[-1]


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A registry node with an admin tokens file and XUA (the Helsenorge test issuer) configured."""
    base = tmp_path_factory.mktemp("admin-secured")
    tokens = base / "admin-tokens"
    token = add_token(tokens, "ops")
    issuer_cert = base / "helsenorge.pem"
    issuer_cert.write_bytes(issuer_keys(HELSENORGE_KEYS).cert_pem)
    env = {"XDSNO_ADMIN_TOKENS_FILE": str(tokens), "XDSNO_XUA_ISSUER_CERTS": f"{HELSENORGE}={issuer_cert}"}
    with running_server(base / "data", "--actor", "registry", env=env) as server:
        store = audit_store(server)
        yield SimpleNamespace(server=server, token=token, tokens=tokens, store=store)
        store.engine.dispose()


@pytest.mark.integration
@pytest.mark.parametrize("path, query", ENDPOINTS, ids=ENDPOINT_IDS)
def test_with_a_tokens_file_each_endpoint_needs_a_valid_token(secured, path, query):
    url = secured.server.url(path)
    send = [SEND_TOKEN, SEND_SAML] if path == "/innsynslogg" else [SEND_TOKEN]
    missing, record = one_record(secured.store, lambda: httpx.get(url, params=query))
    assert (missing.status_code, missing.json()) == (401, {"error": "credentials are required", "send": send})
    challenges = missing.headers.get_list("www-authenticate")
    assert challenges == ['Bearer realm="xdsno"', 'SAML realm="xdsno"'][:len(send)]
    assert (record.outcome, record.outcome_description) == (Outcome.SERIOUS_FAILURE, "HTTP 401")
    assert (record.policy.denied, record.policy.rule, record.policy.reason) == (True, "admin-access",
                                                                               "credentials are required")
    wrong, record = one_record(secured.store, lambda: httpx.get(url, params=query,
                                                                headers={"Authorization": "Bearer not-the-token"}))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "the bearer token is not valid here")
    assert wrong.headers["www-authenticate"].startswith('Bearer realm="xdsno", error="invalid_token"')
    assert record.outcome is Outcome.SERIOUS_FAILURE and record.policy.denied
    valid, record = one_record(secured.store, lambda: httpx.get(
        url, params=query, headers={"Authorization": f"Bearer {secured.token}"}))
    assert valid.status_code == 200, valid.text
    assert (record.outcome, record.policy.denied, record.policy.reason) == (Outcome.SUCCESS, False, "admin token 'ops'")


@pytest.mark.integration
def test_a_token_made_while_the_node_runs_is_accepted_at_once(secured, capsys):
    assert main(["admin", "token", "--label", "new", "--tokens-file", str(secured.tokens)]) == 0
    token = capsys.readouterr().out.strip()
    answer = httpx.post(secured.server.url("/admin/patients"), json={"patients": [PATIENT]},
                        headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()) == (200, {"added": [PATIENT]})


@pytest.mark.integration
def test_a_citizen_reads_their_own_innsynslogg_from_the_node(secured):
    url = secured.server.url("/innsynslogg")
    own, record = one_record(secured.store, lambda: httpx.get(url, params={"patient": PATIENT}, headers=citizen()))
    assert (own.status_code, own.json()["patient"]) == (200, PATIENT)
    assert (record.outcome, record.user.name, record.patients) == (Outcome.SUCCESS, "Ola Innbygger", (PATIENT,))
    assert record.policy.reason == "citizen 'Ola Innbygger' on their own innsynslogg"
    other, record = one_record(secured.store, lambda: httpx.get(url, params={"patient": OTHER_PATIENT},
                                                                headers=citizen()))
    assert (other.status_code, other.json()) == (403, {
        "error": "a citizen sees only their own innsynslogg: the patient asked for is not the assertion's "
                 "patient (resource-id)", "send": [SEND_TOKEN, SEND_SAML]})
    assert (record.outcome, record.patients, record.user.name) == (Outcome.SERIOUS_FAILURE, (OTHER_PATIENT,),
                                                                   "Ola Innbygger")
    expired = httpx.get(url, params={"patient": PATIENT}, headers=citizen(lifetime=-timedelta(hours=1)))
    assert expired.status_code == 401 and "has expired" in expired.json()["error"]
    assert 'SAML realm="xdsno", error="invalid_token"' in expired.headers.get_list("www-authenticate")
    assert httpx.get(url, params={"patient": PATIENT}, headers=unsigned()).status_code == 401
    assert httpx.get(url, params={"patient": PATIENT}, headers=personnel()).status_code == 403
    # the assertion opens the innsynslogg only, not the administrators' audit log
    audit = httpx.get(secured.server.url("/admin/audit"), params={"patient": PATIENT}, headers=citizen())
    assert (audit.status_code, audit.json()["error"]) == (401, "credentials are required")


@pytest.mark.integration
def test_without_configuration_each_endpoint_answers_loopback_callers(tmp_path):
    with running_server(tmp_path / "data", "--actor", "registry") as server:
        store = audit_store(server)
        try:
            for path, query in ENDPOINTS:
                answer, record = one_record(store, lambda: httpx.get(server.url(path), params=query))
                assert answer.status_code == 200, (path, answer.text)
                assert record.policy.reason == "loopback 127.0.0.1"
        finally:
            store.engine.dispose()


@pytest.mark.integration
def test_over_mutual_tls_a_listed_client_certificate_is_let_in(tmp_path):
    pki = tmp_path / "pki"
    devcerts.create_ca(pki / "ca")
    for name in ("node", "ops", "stranger"):
        devcerts.create_node(name, pki / "ca", pki)
    ca = str(pki / "ca" / "ca-cert.pem")

    def as_client(name: str):
        return client_context(ca, str(pki / f"{name}-cert.pem"), str(pki / f"{name}-key.pem"))

    config = tmp_path / "node.toml"
    config.write_text('admin_client_subjects = ["CN=ops,O=xdsno development"]\n')  # a DN holds a comma
    tls = ["--tls-cert", str(pki / "node-cert.pem"), "--tls-key", str(pki / "node-key.pem"), "--tls-ca", ca]
    with running_server(tmp_path / "data", "--config", str(config), *tls, "--actor", "registry",
                        tls=as_client("ops")) as server:
        for path, query in ENDPOINTS:
            assert httpx.get(server.url(path), params=query, verify=as_client("ops")).status_code == 200, path
            refused = httpx.get(server.url(path), params=query, verify=as_client("stranger"))
            assert (refused.status_code, refused.json()) == (403, {
                "error": "client certificate 'CN=stranger,O=xdsno development' is not in admin_client_subjects",
                "send": [SEND_CERT]}), path


@pytest.mark.integration
def test_a_citizen_assertion_larger_than_8_kib_passes_gunicorn(tmp_path):
    """gunicorn (several workers, or TLS) allows 64 KiB header fields: a Helsenorge assertion
    with many attributes still reaches the guard instead of a 400 from the HTTP parser."""
    issuer_cert = tmp_path / "helsenorge.pem"
    issuer_cert.write_bytes(issuer_keys(HELSENORGE_KEYS).cert_pem)
    spec = citizen_spec()
    spec.attributes["urn:no:test:padding"] = ["x" * 9000]
    headers = saml_header(signed_assertion(spec, issuer_keys(HELSENORGE_KEYS)))
    assert len(headers["Authorization"]) > 8190
    env = {"XDSNO_XUA_ISSUER_CERTS": f"{HELSENORGE}={issuer_cert}"}
    with running_server(tmp_path / "data", "--actor", "registry", "--workers", "2", env=env) as server:
        answer = httpx.get(server.url("/innsynslogg"), params={"patient": PATIENT}, headers=headers)
    assert (answer.status_code, answer.json()["patient"]) == (200, PATIENT)
