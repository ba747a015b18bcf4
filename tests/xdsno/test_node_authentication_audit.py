"""The Security Alert of a refused TLS connection (ITI TF-2 3.20 node authentication failure;
DICOM PS3.15 A.5.3.11): the record, its DICOM audit message and BALP AuditEvent, and how the
TLS worker tells a refused handshake from other errors (xdsno.tls_worker). The real server
refusing real clients is tests/xdsno/test_tls.py."""
from __future__ import annotations

import base64
import socket
import ssl

from lxml import etree

from xdsno.audit import dicom, fhir
from xdsno.audit.capture import NodeIdentity
from xdsno.audit.node_authentication import handshake_error, refused_connection
from xdsno.audit.record import AuditRecord
from xdsno.tls_worker import peer_address, refused_handshake

NODE = NodeIdentity(source_id="node.example", site_id="urn:oid:1.2.3", base_url="https://node.example:8443")
UNKNOWN_CA = "certificate verify failed: unable to get local issuer certificate"


def alert() -> AuditRecord:
    return refused_connection("192.0.2.7", UNKNOWN_CA, NODE)


def test_a_refused_connection_is_a_security_alert_of_node_authentication():
    record = alert()
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-19", "110113", "E")
    assert (record.event.type_code.code, record.event.type_code.system) == ("110126", "DCM")
    assert int(record.outcome) == 4 and record.outcome_description == UNKNOWN_CA
    assert (record.requestor.address, record.destination, record.patients) == ("192.0.2.7", NODE.base_url, ())
    assert AuditRecord.from_dict(record.to_dict()) == record


def test_dicom_message_names_the_refused_node_as_alert_subject():
    root = etree.fromstring(dicom.audit_message_bytes(alert()))
    event = root.find("EventIdentification")
    assert (event.get("EventActionCode"), event.get("EventOutcomeIndicator")) == ("E", "4")
    assert event.find("EventID").get("csd-code") == "110113"
    assert [code.attrib for code in event.iterfind("EventTypeCode")] == [
        {"csd-code": "110126", "codeSystemName": "DCM", "originalText": "Node Authentication"}]
    assert event.findtext("EventOutcomeDescription") == UNKNOWN_CA
    peer, node = root.findall("ActiveParticipant")
    assert (peer.get("UserID"), peer.get("UserIsRequestor"), peer.get("NetworkAccessPointID"),
            peer.get("NetworkAccessPointTypeCode")) == ("192.0.2.7", "true", "192.0.2.7", "2")
    assert (node.get("UserID"), node.get("UserIsRequestor")) == (NODE.base_url, "false")
    subject, = root.iterfind("ParticipantObjectIdentification")
    assert (subject.get("ParticipantObjectID"), subject.get("ParticipantObjectTypeCode"),
            subject.get("ParticipantObjectTypeCodeRole")) == ("192.0.2.7", "2", "13")
    assert subject.find("ParticipantObjectIDTypeCode").get("csd-code") == "110182"
    detail, = subject.iterfind("ParticipantObjectDetail")
    assert (detail.get("type"), base64.b64decode(detail.get("value")).decode()) == ("Alert Description", UNKNOWN_CA)


def test_fhir_audit_event_carries_the_alert_type_and_subject():
    event = fhir.audit_event(alert())
    assert event["type"] == {"system": fhir.DCM, "code": "110113", "display": "Security Alert"}
    assert event["subtype"] == [{"system": fhir.DCM, "code": "110126", "display": "Node Authentication"}]
    assert (event["action"], event["outcome"], event["outcomeDesc"]) == ("E", "4", UNKNOWN_CA)
    assert event["agent"][0]["network"] == {"address": "192.0.2.7", "type": "2"}
    subject, = event["entity"]
    assert subject["what"]["identifier"]["value"] == "192.0.2.7"
    assert subject["what"]["identifier"]["type"]["coding"][0]["code"] == "110182"
    assert (subject["type"]["code"], subject["role"]["code"]) == ("2", "13")
    assert subject["detail"] == [{"type": "Alert Description", "valueString": UNKNOWN_CA}]


def test_openssl_decoration_is_left_out_of_the_description():
    assert handshake_error(ssl.SSLCertVerificationError(
        1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {UNKNOWN_CA} (_ssl.c:1006)")) == UNKNOWN_CA
    assert handshake_error(ssl.SSLError(
        1, "[SSL: PEER_DID_NOT_RETURN_A_CERTIFICATE] peer did not return a certificate (_ssl.c:1006)")) == \
        "peer did not return a certificate"


class Established:
    def version(self):
        return "TLSv1.3"


def test_only_ssl_errors_before_a_tls_version_was_agreed_are_refused_handshakes():
    with socket.socket() as plain:
        assert refused_handshake(plain, ssl.SSLError(1, "handshake failure"))
        assert not refused_handshake(plain, ValueError("not TLS"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with context.wrap_socket(socket.socket(), do_handshake_on_connect=False, server_hostname="x") as unfinished:
        assert refused_handshake(unfinished, ssl.SSLError(1, "handshake failure"))
    assert not refused_handshake(Established(), ssl.SSLError(1, "bad record mac"))


def test_the_peer_is_named_by_its_address():
    assert peer_address(("127.0.0.1", 50000)) == "127.0.0.1"
    assert peer_address("/run/xdsno.sock") == "/run/xdsno.sock"
