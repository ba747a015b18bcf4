"""`xdsno xua assertion` (the development issuer on the command line) and `--assertion FILE` of
`xdsno publish` / `xdsno retrieve`: the assertion verifies as the node verifies (ITI-40), each
option lands in its Norwegian attribute, and a node requiring XUA on its repository refuses
the commands without the option and serves them with it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from soap import wsse
from soap.xml import parse_xml
from tests.repository.nodes import cli
from tests.server import running_server
from xdsno import devcerts
from xdsno.cli import main as xdsno
from xdsno.documents_cli import security_headers
from xdsno.xua import XuaConfig, verify_assertion
from xdsno.xua import names as n
from xdsno.xua.config import load_certificates

PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
OTHER_PATIENT = "02448400143^^^&2.16.578.1.12.4.1.4.1&ISO"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    """The files of `xdsno certs issuer test-idp` (RSA) and of an EC one."""
    folder = tmp_path_factory.mktemp("issuer")
    devcerts.create_ca(folder / "ca")
    devcerts.create_issuer("test-idp", folder / "ca", folder)
    devcerts.create_issuer("ec-idp", folder / "ca", folder, key_type="ec")
    return folder


def signing(issuer, name: str = "test-idp") -> list[str]:
    return ["--key", str(issuer / f"{name}-key.pem"), "--cert", str(issuer / f"{name}-cert.pem")]


def make(issuer, tmp_path, *options: str) -> tuple[int, bytes]:
    out = tmp_path / "assertion.xml"
    code = xdsno(["xua", "assertion", *signing(issuer), "--user-name", "Kari Lege", "--out", str(out), *options])
    return code, out.read_bytes() if out.exists() else b""


def verified(issuer, xml: bytes, *, issuer_name: str = "test-idp", audiences=(n.HELSEID_AUDIENCE,)):
    trusted = {issuer_name: load_certificates(issuer / "test-idp-cert.pem")}
    return verify_assertion(wsse_header(xml), XuaConfig(trusted, audiences=frozenset(audiences)))


def wsse_header(xml: bytes):
    from xdsno.xua.issuer import security_header

    return security_header(parse_xml(xml))


def test_assertion_verifies_and_carries_the_options(issuer, tmp_path):
    code, xml = make(issuer, tmp_path, "--hpr-number", "9100101", "--organization-id", "999999905",
                     "--organization-name", "Syntetisk sykehus Nord HF", "--patient", PATIENT,
                     "--home-community-id", "urn:oid:2.16.578.1.12.4.1.7.1.1", "--acp", "7")
    assert code == 0
    assertion = verified(issuer, xml)
    assert (assertion.issuer, assertion.subject, assertion.user_name) == ("test-idp", "Kari Lege", "Kari Lege")
    assert (assertion.hpr_number, assertion.organization_id, assertion.organization) == (
        "9100101", "999999905", "Syntetisk sykehus Nord HF")
    assert (assertion.role.code, assertion.role.code_system, assertion.role.display) == (
        "LE", n.ROLE_CODE_SYSTEM, "Lege")
    assert (assertion.purpose_of_use.code, assertion.purpose_of_use.display) == ("TREAT", "Treatment")
    assert assertion.patient_id == PATIENT and assertion.home_community_id == "urn:oid:2.16.578.1.12.4.1.7.1.1"
    assert assertion.acp == (n.ACP_PREFIX + "7",)
    lifetime = assertion.not_on_or_after - assertion.issue_instant
    assert lifetime == timedelta(minutes=60) and assertion.issue_instant <= datetime.now(timezone.utc)


def test_options_change_issuer_audience_role_purpose_and_lifetime(issuer, tmp_path):
    code, xml = make(issuer, tmp_path, "--issuer", "https://idp.test/saml", "--audience", "urn:test:sp",
                     "--role", "SP", "--purpose", "BTG", "--lifetime", "5")
    assert code == 0
    assertion = verified(issuer, xml, issuer_name="https://idp.test/saml", audiences=("urn:test:sp",))
    assert (assertion.role.code, assertion.role.display) == ("SP", "Sykepleier")
    assert assertion.purpose_of_use.code == "BTG" and assertion.audiences == ("urn:test:sp",)
    assert assertion.not_on_or_after - assertion.issue_instant == timedelta(minutes=5)
    assert assertion.hpr_number is None and assertion.patient_id is None


def test_assertion_goes_to_stdout_without_out(issuer, capsys):
    assert xdsno(["xua", "assertion", *signing(issuer), "--user-name", "Kari Lege"]) == 0
    assert verified(issuer, capsys.readouterr().out.encode()).user_name == "Kari Lege"


def test_an_ec_key_is_refused(issuer, tmp_path, capsys):
    out = tmp_path / "a.xml"
    code = xdsno(["xua", "assertion", *signing(issuer, "ec-idp"), "--user-name", "Kari Lege", "--out", str(out)])
    assert code == 1 and not out.exists()
    assert "the signing key must be RSA" in capsys.readouterr().err


def test_a_missing_key_file_is_refused(issuer, tmp_path, capsys):
    code = xdsno(["xua", "assertion", "--key", str(tmp_path / "absent.pem"), "--cert",
                  str(issuer / "test-idp-cert.pem"), "--user-name", "Kari Lege"])
    assert code == 1 and "absent.pem" in capsys.readouterr().err


def test_a_lifetime_of_zero_is_a_bad_argument(issuer, capsys):
    with pytest.raises(SystemExit) as exit_:
        xdsno(["xua", "assertion", *signing(issuer), "--user-name", "Kari Lege", "--lifetime", "0"])
    assert exit_.value.code == 2 and "must be a positive number of minutes" in capsys.readouterr().err


def test_security_headers_wraps_the_file_in_wsse_security(issuer, tmp_path):
    _, xml = make(issuer, tmp_path)
    (header,) = security_headers(str(tmp_path / "assertion.xml"))
    assert header.tag == wsse.SECURITY and header[0].tag == n.ASSERTION
    assert security_headers(None) == []


def test_security_headers_refuses_what_is_no_assertion(tmp_path):
    path = tmp_path / "x.xml"
    path.write_bytes(b"<Envelope/>")
    with pytest.raises(ValueError, match="holds Envelope, not a SAML 2.0 saml:Assertion"):
        security_headers(str(path))


def test_publish_with_a_file_that_is_no_assertion_exits_2(tmp_path, capsys):
    report, path = tmp_path / "x.txt", tmp_path / "x.xml"
    report.write_bytes(b"text")
    path.write_bytes(b"<Envelope/>")
    assert xdsno(["publish", str(report), "--patient", PATIENT, "--assertion", str(path)]) == 2
    assert "not a SAML 2.0 saml:Assertion" in capsys.readouterr().err


# --- a node requiring XUA on its repository ---------------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory, issuer):
    env = {"XDSNO_XUA_ISSUER_CERTS": f"test-idp={issuer / 'test-idp-cert.pem'}",
           "XDSNO_XUA_REQUIRED": "repository"}
    with running_server(tmp_path_factory.mktemp("xua-cli") / "data", env=env) as server:
        yield server


def assertion_file(issuer, tmp_path, patient: str) -> str:
    path = tmp_path / f"assertion-{patient[:11]}.xml"
    assert xdsno(["xua", "assertion", *signing(issuer), "--user-name", "Kari Lege", "--hpr-number", "9100101",
                  "--organization-id", "999999905", "--patient", patient, "--out", str(path)]) == 0
    return str(path)


@pytest.mark.integration
def test_publish_and_retrieve_with_an_assertion_against_a_node_requiring_xua(node, issuer, tmp_path):
    report = tmp_path / "notat.txt"
    report.write_bytes("Journalnotat\n".encode())
    repository = ["--repository", node.url("/repository")]
    refused = cli("publish", str(report), "--patient", PATIENT, *repository)
    assert refused.returncode == 1
    assert "SOAP fault Sender: XUA: this endpoint requires a SAML 2.0 identity assertion" in refused.stderr
    mine = assertion_file(issuer, tmp_path, PATIENT)
    published = cli("publish", str(report), "--patient", PATIENT, "--assertion", mine, *repository)
    assert published.returncode == 0, published.stderr
    unique_id = re.search(r"^(\S+)  ", published.stdout.splitlines()[-1]).group(1)
    out = tmp_path / "back.txt"
    retrieved = cli("retrieve", unique_id, "--out", str(out), "--assertion", mine, *repository)
    assert retrieved.returncode == 0, retrieved.stderr
    assert out.read_bytes() == report.read_bytes()
    not_mine = assertion_file(issuer, tmp_path, OTHER_PATIENT)
    hidden = cli("retrieve", unique_id, "--out", str(out), "--assertion", not_mine, *repository)
    assert hidden.returncode == 1 and "no document retrieved" in hidden.stderr
