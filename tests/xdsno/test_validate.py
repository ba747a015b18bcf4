"""Validation as a service: `xdsno validate FILE` on a bare body, a SOAP envelope and a whole MTOM
capture, and `POST /validate` through the real server. Nothing is stored either way."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from lxml import etree

from profiles.catalog import load_profile
from profiles.ebrim import encode_provide_and_register, encode_submit_objects_request
from profiles.rules import Transaction
from soap.envelope import build_envelope
from soap.message import write_message
from soap.mtom import OutgoingAttachment, include_element
from tests.profiles import samples
from tests.profiles.norway import norway_samples as ns
from tests.profiles.xml_support import IHE_EXAMPLES, require
from tests.server import running_server
from xdsno.cli import main
from xdsno.validation import MessageError, validate_message

NORWAY = load_profile("norway")
PDF = b"%PDF-1.4 a Norwegian epikrise\n%%EOF\n"


# --- messages -------------------------------------------------------------------------------

def bare_body(submission=None) -> bytes:
    return etree.tostring(encode_submit_objects_request(submission or ns.submission()), xml_declaration=True,
                          encoding="UTF-8")


def soap_envelope(submission=None) -> bytes:
    return build_envelope([], encode_submit_objects_request(submission or ns.submission()))


def mtom_message(submission=None) -> tuple[str, bytes]:
    """(Content-Type, body) of an ITI-41 MTOM request, one PDF part per DocumentEntry."""
    submission = submission or ns.provide_and_register()[0]
    ids = [e.id for e in submission.document_entries]
    body = encode_provide_and_register(submission, [(i, include_element(f"{i}@example.org")) for i in ids])
    message = write_message([], body, mtom=True,
                            attachments=[OutgoingAttachment.from_bytes(f"{i}@example.org", PDF, "application/pdf")
                                         for i in ids])
    return message.content_type, b"".join(message.body)


def mtom_capture() -> bytes:
    """The MTOM request as a capture tool saves it: MIME headers, a blank line, the package."""
    content_type, body = mtom_message()
    return f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n".encode() + body


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- the shared function --------------------------------------------------------------------

@pytest.mark.parametrize("data, content_type", [
    (bare_body(), None), (bare_body(), "text/xml"), (soap_envelope(), None),
    (soap_envelope(), "application/soap+xml; charset=utf-8"),
])
def test_norwegian_submission_is_valid_bare_or_in_soap(data, content_type):
    result = validate_message(data, content_type, NORWAY)
    assert result.valid and result.issues == () and result.transaction is Transaction.REGISTER


def test_mtom_with_its_content_type_is_iti41():
    content_type, body = mtom_message()
    result = validate_message(body, content_type, NORWAY)
    assert result.valid and result.issues == () and result.transaction is Transaction.PROVIDE_AND_REGISTER


@pytest.mark.parametrize("framing", ["capture with MIME headers", "capture from the boundary line",
                                     "HTTP request capture"])
def test_mtom_captures_are_detected(framing):
    content_type, body = mtom_message()
    data = {"capture with MIME headers": mtom_capture(), "capture from the boundary line": body,
            "HTTP request capture": f"POST /repository HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\r\n"
                                    .encode() + body}[framing]
    result = validate_message(data, None, NORWAY)
    assert result.valid and result.transaction is Transaction.PROVIDE_AND_REGISTER


def test_mtom_entry_without_its_document_part():
    submission, _ = ns.provide_and_register()
    content_type, body = mtom_message(submission)
    without = body.replace(b'<xdsb:Document id="Document02">', b'<xdsb:Ignored id="Document02">')
    without = without.replace(b"</xdsb:Document></xdsb:Provide", b"</xdsb:Ignored></xdsb:Provide")
    codes = {i.code.value for i in validate_message(without, content_type, NORWAY).issues}
    assert "XDSMissingDocument" in codes


def test_provide_and_register_judged_as_iti42():
    content_type, body = mtom_message()
    result = validate_message(body, content_type, NORWAY, transaction="ITI-42")
    assert result.transaction is Transaction.REGISTER
    assert {i.context.split(": ")[1].split(" ")[0] for i in result.issues} == {"hash", "size", "repositoryUniqueId"}


@pytest.mark.parametrize("data, transaction, fragment", [
    (bare_body(), "ITI-41", "ITI-41 is a ProvideAndRegisterDocumentSetRequest"),
    (bare_body(), "ITI-18", "use ITI-41 or ITI-42"),
    (b"<a:Ping xmlns:a='urn:x'/>", None, "expected lcm:SubmitObjectsRequest"),
    (b"hello", None, "neither XML nor a MIME capture"),
    (b"<unclosed>", None, "cannot read the message"),
])
def test_unreadable_messages_say_why(data, transaction, fragment):
    with pytest.raises(MessageError, match=fragment):
        validate_message(data, None, NORWAY, transaction=transaction)


# --- xdsno validate FILE --------------------------------------------------------------------

def run(capsys, tmp_path, *args) -> tuple[int, str, str]:
    code = main(["validate", *args, "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, data", [("bare.xml", bare_body()), ("soap.xml", soap_envelope()),
                                        ("capture.mime", mtom_capture())])
def test_cli_accepts_a_valid_norwegian_message(capsys, tmp_path, name, data):
    code, out, _ = run(capsys, tmp_path, write(tmp_path, name, data))
    assert code == 0
    transaction = "ITI-41" if name == "capture.mime" else "ITI-42"
    assert out.strip().endswith(f"valid under profile norway as {transaction} (0 error(s), 0 warning(s))")


def test_cli_rejects_the_ihe_example_naming_what_to_change(capsys, tmp_path):
    example = str(require(IHE_EXAMPLES / "XDS.b" / "RegisterDocumentSet-bRequest_SOAP.xml"))
    code, out, _ = run(capsys, tmp_path, example)
    assert code == 1
    assert ("error: XDSRegistryMetadataError [Document01] DocumentEntry Document01: classCode 'History and "
            "Physical' (codingScheme 'Connect-a-thon classCodes') is not in Volven 9602") in out
    assert "error: XDSUnknownPatientId [SubmissionSet01]" in out
    assert "INVALID under profile norway as ITI-42" in out


def test_cli_profile_and_lenient(capsys, tmp_path):
    ihe_sample = write(tmp_path, "ihe.xml", soap_envelope(samples.submission()))
    assert run(capsys, tmp_path, ihe_sample, "--profile", "ihe")[0] == 0
    assert run(capsys, tmp_path, ihe_sample)[0] == 1
    code, out, _ = run(capsys, tmp_path, ihe_sample, "--lenient")
    assert code == 0 and "warning: XDSRegistryMetadataError" in out and "error:" not in out


def test_cli_json(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, write(tmp_path, "ihe.xml", bare_body(samples.submission())), "--json")
    document = json.loads(out)
    assert code == 1 and document["valid"] is False and document["transaction"] == "ITI-42"
    assert {"code", "severity", "location", "context"} == set(document["issues"][0])


def test_cli_transaction_option(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, write(tmp_path, "c.mime", mtom_capture()), "--transaction", "ITI-42")
    assert code == 1 and "hash is required (R) in ITI-42" in out


def test_cli_unreadable_and_missing_files(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path, write(tmp_path, "junk.txt", b"hello"))
    assert code == 1 and "neither XML nor a MIME capture" in err
    code, _, err = run(capsys, tmp_path, str(tmp_path / "absent.xml"))
    assert code == 2 and "absent.xml" in err


# --- POST /validate -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("validate") / "data", "--profile", "norway") as running:
        yield running


def post(server, data: bytes, content_type: str | None, query: str = "") -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.post(server.url("/validate" + query), content=data, headers=headers, timeout=10)


@pytest.mark.integration
def test_http_valid_norwegian_soap(server):
    reply = post(server, soap_envelope(), "application/soap+xml; charset=utf-8")
    assert reply.status_code == 200
    assert reply.json() == {"valid": True, "profile": "norway", "transaction": "ITI-42", "issues": []}


@pytest.mark.integration
def test_http_mtom(server):
    content_type, body = mtom_message()
    reply = post(server, body, content_type)
    assert reply.status_code == 200 and reply.json()["valid"] and reply.json()["transaction"] == "ITI-41"


@pytest.mark.integration
def test_http_profile_and_lenient_from_the_query(server):
    ihe_sample = soap_envelope(samples.submission())
    assert post(server, ihe_sample, "application/soap+xml", "?profile=ihe").json()["valid"] is True
    rejected = post(server, ihe_sample, "application/soap+xml").json()
    assert rejected["valid"] is False and rejected["profile"] == "norway"
    assert {i["severity"] for i in rejected["issues"]} == {"error"}
    assert any(i["context"].startswith("DocumentEntry Document01: classCode 'Consult'") for i in rejected["issues"])
    lenient = post(server, ihe_sample, "application/soap+xml", "?lenient=1&transaction=ITI-42").json()
    assert lenient["valid"] is True and {i["severity"] for i in lenient["issues"]} == {"warning"}


@pytest.mark.integration
def test_http_detects_a_capture_without_content_type(server):
    reply = post(server, mtom_capture(), None)
    assert reply.status_code == 200 and reply.json()["valid"] is True


@pytest.mark.integration
@pytest.mark.parametrize("data, query, status", [
    (b"hello", "", 400), (bare_body(), "?profile=danish", 400), (bare_body(), "?lenient=maybe", 400),
    (bare_body(), "?transaction=ITI-41", 400),
])
def test_http_bad_requests(server, data, query, status):
    reply = post(server, data, "application/xml", query)
    assert reply.status_code == status and reply.json()["valid"] is False and reply.json()["error"]


@pytest.mark.integration
def test_http_get_is_405(server):
    assert httpx.get(server.url("/validate")).status_code == 405
