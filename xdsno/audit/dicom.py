"""An audit record as a DICOM audit message (DICOM PS3.15 A.5, the RFC 3881 successor that IHE
ATNA ITI-20 carries in syslog), with the participants IHE ITI TF-2 names for the XDS/XCA
transactions (3.18.5.1, 3.41.5.1, 3.43.5.1, …):

- EventIdentification: EventID, EventActionCode, EventDateTime, EventOutcomeIndicator,
  EventTypeCode (the transaction, "IHE Transactions"), PurposeOfUse;
- ActiveParticipant: the source (requesting system, 110153), the human requestor from XUA
  (UserID `name<subject@issuer>`, RoleIDCode = the SAML role), the destination (this
  endpoint, 110152);
- AuditSourceIdentification: this node (type 4, application server);
- ParticipantObjectIdentification: patients (1/1, id type 2), documents (2/3, id type 9, with
  Repository Unique Id and ihe:homeCommunityID details), submission set (2/20, the SubmissionSet
  classification node), stored query (2/24, the query id, ParticipantObjectQuery = the
  AdhocQuery base64, QueryEncoding UTF-8);
- a Security Alert (A.5.3.11; a TLS connection refused, xdsno.audit.events): its EventTypeCode
  is the alert type (110126 Node Authentication), the source is the refused peer (the
  performing node, requestor), the destination this node (reporting), and the Alert Subject
  (2/13, id type 110182 Node ID) is the peer's address with the reason as "Alert Description".

Detail values are base64 (xs:base64Binary) as the schema has them.
"""
from __future__ import annotations

import base64
import ipaddress

from lxml import etree

from .events import IHE_TRANSACTIONS, NODE_ID, SECURITY_ALERT
from .record import AuditRecord, AuditUser, Coded, DocumentRef

SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
_SOURCE = Coded("110153", "DCM", "Source Role ID")
_DESTINATION = Coded("110152", "DCM", "Destination Role ID")


def audit_message(record: AuditRecord) -> etree._Element:
    root = etree.Element("AuditMessage")
    _event(root, record)
    _participant(root, record.requestor.endpoint or record.requestor.address or "unknown", _SOURCE,
                 requestor=record.user is None, address=record.requestor.address,
                 alternative=record.requestor.tls_subject)
    if record.user is not None:
        _human(root, record.user)
    _participant(root, record.destination or record.source_id, _DESTINATION, requestor=False,
                 alternative=str(record.actor))
    source = etree.SubElement(root, "AuditSourceIdentification", AuditSourceID=record.source_id or "xdsno")
    if record.site_id:
        source.set("AuditEnterpriseSiteID", record.site_id)
    _code(source, "AuditSourceTypeCode", Coded("4", "DCM", "Application Server"))
    _objects(root, record)
    return root


def audit_message_bytes(record: AuditRecord) -> bytes:
    return etree.tostring(audit_message(record), encoding="utf-8", xml_declaration=False)


def _event(root: etree._Element, record: AuditRecord) -> None:
    event = etree.SubElement(root, "EventIdentification", EventActionCode=record.event.action,
                             EventDateTime=record.recorded, EventOutcomeIndicator=str(int(record.outcome)))
    _code(event, "EventID", record.event.event_id)
    if record.event.type_code is not None:
        _code(event, "EventTypeCode", record.event.type_code)
    elif record.event.transaction.startswith("ITI-"):
        _code(event, "EventTypeCode", Coded(record.event.transaction, IHE_TRANSACTIONS, record.event.name))
    if record.outcome_description:
        etree.SubElement(event, "EventOutcomeDescription").text = record.outcome_description
    if record.user is not None and record.user.purpose_of_use is not None:
        _code(event, "PurposeOfUse", record.user.purpose_of_use)


def _participant(root, user_id: str, role: Coded, *, requestor: bool, address: str = "",
                 alternative: str = "", name: str = "") -> etree._Element:
    participant = etree.SubElement(root, "ActiveParticipant", UserID=user_id,
                                   UserIsRequestor="true" if requestor else "false")
    if alternative:
        participant.set("AlternativeUserID", alternative)
    if name:
        participant.set("UserName", name)
    if address:
        participant.set("NetworkAccessPointID", address)
        participant.set("NetworkAccessPointTypeCode", "2" if _is_ip(address) else "1")
    _code(participant, "RoleIDCode", role)
    return participant


def _human(root: etree._Element, user: AuditUser) -> None:
    # ITI TF-2 3.40.4.2 (XUA grouped with ATNA): UserName alias<user@issuer>
    user_name = f"{user.name}<{user.subject}@{user.issuer}>" if user.subject else user.name
    participant = etree.SubElement(root, "ActiveParticipant", UserID=user.subject or user.name or "unknown",
                                   UserIsRequestor="true", UserName=user_name)
    if user.role is not None:
        _code(participant, "RoleIDCode", user.role)


def _objects(root: etree._Element, record: AuditRecord) -> None:
    for patient in record.patients:
        _object(root, patient, "1", "1", Coded("2", "RFC-3881", "Patient Number"))
    for document in record.documents:
        _document(root, document)
    if record.submission_set:
        _object(root, record.submission_set, "2", "20", Coded(SUBMISSION_SET_NODE, "IHE XDS Metadata",
                                                               "submission set classificationNode"))
    if record.query is not None:
        query = _object(root, record.query.id, "2", "24",
                        Coded(record.event.transaction, IHE_TRANSACTIONS, record.event.name))
        etree.SubElement(query, "ParticipantObjectQuery").text = _b64(record.query.text)
        _detail(query, "QueryEncoding", "UTF-8")
        if record.query.home_community_id:
            _detail(query, "ihe:homeCommunityID", record.query.home_community_id)
    if record.event.event_id == SECURITY_ALERT:
        subject = _object(root, record.requestor.address or "unknown", "2", "13", NODE_ID)
        if record.outcome_description:
            _detail(subject, "Alert Description", record.outcome_description)


def _document(root: etree._Element, document: DocumentRef) -> None:
    element = _object(root, document.unique_id, "2", "3", Coded("9", "RFC-3881", "Report Number"))
    if document.repository_unique_id:
        _detail(element, "Repository Unique Id", document.repository_unique_id)
    if document.home_community_id:
        _detail(element, "ihe:homeCommunityID", document.home_community_id)


def _object(root, object_id: str, type_code: str, role: str, id_type: Coded) -> etree._Element:
    element = etree.SubElement(root, "ParticipantObjectIdentification", ParticipantObjectID=object_id,
                               ParticipantObjectTypeCode=type_code, ParticipantObjectTypeCodeRole=role)
    _code(element, "ParticipantObjectIDTypeCode", id_type)
    return element


def _detail(parent: etree._Element, detail_type: str, value: str) -> None:
    etree.SubElement(parent, "ParticipantObjectDetail", type=detail_type, value=_b64(value))


def _code(parent: etree._Element, tag: str, coded: Coded) -> None:
    element = etree.SubElement(parent, tag, {"csd-code": coded.code})
    if coded.system:
        element.set("codeSystemName", coded.system)
    if coded.display:
        element.set("originalText", coded.display)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
