"""Which audit event each audited request is: transaction, DICOM EventID and action code.

The SOAP transactions follow the audit message descriptions of IHE ITI TF-2 (3.18.5.1,
3.38.5.1, 3.39.5.1, 3.41.5.1, 3.42.5.1, 3.43.5.1, 3.51.5.1; RMD 3.62.5.1, 3.86.5.1) as BALP carries them over
("AuditEvent Use in IHE Profiles"): EventID from DICOM (DCM), EventTypeCode the transaction
(`urn:ihe:event-type-code`, DICOM codeSystemName "IHE Transactions"), action code C R U D E.
The admin events (known patients, patient blocks, reading the audit log) use the DICOM
events for patient records (110110) and audit log use (110101).

A TLS connection this node refused (ITI-19 Authenticate Node failed: unknown CA, expired or
revoked certificate, none when one is required) is the "node authentication failure" of ITI
TF-2 3.20 (ATNA trigger events): a Security Alert (110113, DICOM PS3.15 A.5.3.11) with
EventTypeCode 110126 Node Authentication, action E, and a minor failure as outcome — the
alert's severity, "mitigation effective": the connection was refused.
"""
from __future__ import annotations

from .record import Coded, EventType

DCM = "DCM"
IHE_TRANSACTIONS = "IHE Transactions"

IMPORT = Coded("110107", DCM, "Import")
EXPORT = Coded("110106", DCM, "Export")
QUERY = Coded("110112", DCM, "Query")
DELETED = Coded("110105", DCM, "DICOM Study Deleted")
PATIENT_RECORD = Coded("110110", DCM, "Patient Record")
AUDIT_LOG_USED = Coded("110101", DCM, "Audit Log Used")
APPLICATION_ACTIVITY = Coded("110100", DCM, "Application Activity")
SECURITY_ALERT = Coded("110113", DCM, "Security Alert")
NODE_AUTHENTICATION = Coded("110126", DCM, "Node Authentication")
#: ParticipantObjectIDTypeCode of a node (the Alert Subject of a node authentication failure)
NODE_ID = Coded("110182", DCM, "Node ID")

#: a TLS connection refused at the handshake (ITI-19 failed): recorded as transaction ITI-19
NODE_AUTHENTICATION_FAILURE = EventType("ITI-19", "Authenticate Node", SECURITY_ALERT, "E",
                                        type_code=NODE_AUTHENTICATION)

#: wsa:Action → the event it is at the receiving actor
SOAP_EVENTS: dict[str, EventType] = {
    "urn:ihe:iti:2007:RegistryStoredQuery": EventType("ITI-18", "Registry Stored Query", QUERY, "E"),
    "urn:ihe:iti:2007:CrossGatewayQuery": EventType("ITI-38", "Cross Gateway Query", QUERY, "E"),
    "urn:ihe:iti:2007:CrossGatewayRetrieve": EventType("ITI-39", "Cross Gateway Retrieve", EXPORT, "R"),
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b":
        EventType("ITI-41", "Provide and Register Document Set-b", IMPORT, "C"),
    "urn:ihe:iti:2007:RegisterDocumentSet-b": EventType("ITI-42", "Register Document Set-b", IMPORT, "C"),
    "urn:ihe:iti:2007:RetrieveDocumentSet": EventType("ITI-43", "Retrieve Document Set", EXPORT, "R"),
    "urn:ihe:iti:2009:MultiPatientStoredQuery": EventType("ITI-51", "Multi-Patient Stored Query", QUERY, "E"),
    "urn:ihe:iti:2010:DeleteDocumentSet": EventType("ITI-62", "Remove Metadata", DELETED, "D"),
    "urn:ihe:iti:2017:RemoveDocuments": EventType("ITI-86", "Remove Documents", DELETED, "D"),
}

#: kinds of event whose records count as an access to the patient's documents (innsynslogg)
ACCESS_TRANSACTIONS = frozenset({"ITI-18", "ITI-38", "ITI-39", "ITI-43", "ITI-51"})

_ADMIN_ACTIONS = {"GET": "R", "HEAD": "R", "POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}


def soap_event(action: str | None) -> EventType:
    """The event of a SOAP request with this wsa:Action (unknown or missing: Application Activity)."""
    if action and action in SOAP_EVENTS:
        return SOAP_EVENTS[action]
    return EventType("SOAP", action or "(no wsa:Action)", APPLICATION_ACTIVITY, "E")


def admin_event(resource: str, method: str) -> EventType:
    """An administrative HTTP call on `resource` (e.g. "patients", "blocks", "audit")."""
    action = _ADMIN_ACTIONS.get(method.upper(), "E")
    if resource in ("audit", "innsynslogg"):
        return EventType("ADMIN", f"{method.upper()} {resource}", AUDIT_LOG_USED, action)
    return EventType("ADMIN", f"{method.upper()} {resource}", PATIENT_RECORD, action)
