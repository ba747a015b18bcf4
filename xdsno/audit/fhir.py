"""An audit record as a FHIR R4 AuditEvent after IHE Basic Audit Log Patterns (BALP), and its
delivery to an audit record repository by RESTful create (`POST [base]/AuditEvent`, IHE
RESTful ATNA ITI-20 "FHIR Feed").

- type: the DICOM EventID (`http://dicom.nema.org/resources/ontology/DCM`); subtype: the
  transaction (`urn:ihe:event-type-code`, e.g. ITI-18); action, recorded, outcome (0/4/8/12),
  outcomeDesc; purposeOfEvent from the assertion's purpose of use;
- agents: the client (110153 Source Role ID, with its network address), the server (110152
  Destination Role ID), and from XUA the user (BALP SAMLaccessTokenUse.Comprehensive:
  `who.identifier` = Issuer + NameID, `policy` = assertion ID, role, purposeOfUse, otherId
  subject-id and HPR number), the user's organisation (`PROV`, orgnr), point of care and
  department (`SDLOC`), the user's homeCommunityId;
- source: this node (site = home community, type 4 application server);
- entities: patients (identifier from the CX), documents (uniqueId, repositoryUniqueId and
  homeCommunityId details), submission set, stored query (`query` = the AdhocQuery, base64),
  consent (the XUA acp values), the access policy's rule (denial, override, hidden count);
- a Security Alert (a refused TLS connection): subtype the alert type (DCM 110126 Node
  Authentication), entity the refused node (2 System Object / 13 Security Resource) with the
  reason as "Alert Description".

The record id goes in `meta.tag` (`urn:xdsno:audit-record`) so a repository can drop a record
delivered twice.
"""
from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Sequence
from typing import Any

import httpx

from .events import NODE_ID, SECURITY_ALERT
from .record import AuditRecord, AuditUser, Coded, DocumentRef
from .shipper import PartialDelivery

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE_CODE = "urn:ihe:event-type-code"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
BALP = "https://profiles.ihe.net/ITI/BALP"
SAML_PROFILE = f"{BALP}/StructureDefinition/IHE.BasicAudit.SAMLaccessTokenUse.Comprehensive"
OTHER_ID = f"{BALP}/StructureDefinition/ihe-otherId"
RECORD_TAG = "urn:xdsno:audit-record"
HPR_OID = "2.16.578.1.12.4.1.4.4"
ORGNR_OID = "2.16.578.1.12.4.1.4.101"
RESH_OID = "2.16.578.1.12.4.1.4.102"
# the purpose-of-use value set (2.16.840.1.113883.1.11.20448) draws its codes from ActReason
_SYSTEM_URLS = {"2.16.840.1.113883.5.8": ACT_REASON, "2.16.840.1.113883.1.11.20448": ACT_REASON,
                "DCM": DCM}


def audit_event(record: AuditRecord) -> dict[str, Any]:
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "meta": {"tag": [{"system": RECORD_TAG, "code": record.id}]},
        "type": coding(record.event.event_id),
        "action": record.event.action,
        "recorded": record.recorded,
        "outcome": str(int(record.outcome)),
        "agent": _agents(record),
        "source": _source(record),
    }
    if record.event.type_code is not None:
        event["subtype"] = [coding(record.event.type_code)]
    elif record.event.transaction.startswith("ITI-"):
        event["subtype"] = [{"system": EVENT_TYPE_CODE, "code": record.event.transaction,
                             "display": record.event.name}]
    else:
        event["subtype"] = [{"system": "urn:xdsno:event", "code": record.event.name}]
    if record.outcome_description:
        event["outcomeDesc"] = record.outcome_description
    if record.user is not None:
        event["meta"]["profile"] = [SAML_PROFILE]
        if record.user.purpose_of_use is not None:
            event["purposeOfEvent"] = [{"coding": [coding(record.user.purpose_of_use)]}]
    entities = _entities(record)
    if entities:
        event["entity"] = entities
    return event


def audit_event_json(record: AuditRecord) -> str:
    return json.dumps(audit_event(record), ensure_ascii=False, separators=(",", ":"))


def coding(coded: Coded) -> dict[str, str]:
    result = {"code": coded.code}
    if coded.system:
        result["system"] = system_url(coded.system)
    if coded.display:
        result["display"] = coded.display
    return result


def system_url(system: str) -> str:
    """A code system as a FHIR URI: known OIDs by their URL, other OIDs as urn:oid:."""
    if system in _SYSTEM_URLS:
        return _SYSTEM_URLS[system]
    if system and system[0].isdigit() and all(part.isdigit() for part in system.split(".")):
        return f"urn:oid:{system}"
    return system


def _agents(record: AuditRecord) -> list[dict[str, Any]]:
    client: dict[str, Any] = {
        "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
        "who": _who(record.requestor.endpoint or record.requestor.address or "unknown",
                    record.requestor.tls_subject),
        "requestor": record.user is None,
    }
    if record.requestor.address:
        client["network"] = {"address": record.requestor.address, "type": "2"}
    server = {
        "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
        "who": {"display": record.destination or record.source_id},
        "requestor": False,
    }
    agents = [client, server]
    if record.user is not None:
        agents += _user_agents(record.user, record.event.action)
    return agents


def _who(display: str, identifier: str = "") -> dict[str, Any]:
    who: dict[str, Any] = {"display": display}
    if identifier:
        who["identifier"] = {"value": identifier}
    return who


def _user_agents(user: AuditUser, action: str) -> list[dict[str, Any]]:
    kind = {"system": ROLE_CLASS, "code": "AGNT"} if action in ("C", "U", "D") else \
        {"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": f"{BALP}/CodeSystem/UserAgentTypes", "code": "UserSamlAgent"}, kind]},
        "who": {"identifier": {"system": user.issuer, "value": user.subject}, "display": user.name},
        "requestor": True,
    }
    if user.assertion_id:
        agent["policy"] = [user.assertion_id]
    if user.role is not None:
        agent["role"] = [{"coding": [coding(user.role)]}]
    if user.purpose_of_use is not None:
        agent["purposeOfUse"] = [{"coding": [coding(user.purpose_of_use)]}]
    agent["extension"] = _other_ids(user)
    agents = [agent]
    if user.organization or user.organization_id:
        agents.append(_organization(user.organization, user.organization_id, ORGNR_OID, "PROV",
                                    "healthcare provider"))
    if user.point_of_care or user.point_of_care_name:
        agents.append(_organization(user.point_of_care_name, user.point_of_care, ORGNR_OID, "SDLOC",
                                    "service delivery location"))
    if user.department or user.department_name:
        agents.append(_organization(user.department_name, user.department, RESH_OID, "SDLOC",
                                    "service delivery location"))
    if user.home_community_id:
        agents.append({"type": {"coding": [{"system": "urn:ihe:iti:xca:2010", "code": "homeCommunityId"}]},
                       "who": {"identifier": {"value": user.home_community_id}}, "requestor": False})
    return agents


def _other_ids(user: AuditUser) -> list[dict[str, Any]]:
    extensions = []
    if user.name:
        extensions.append({"url": OTHER_ID, "valueIdentifier": {
            "type": {"coding": [{"system": f"{BALP}/CodeSystem/OtherIdentifierTypes", "code": "SAML-subject-id"}]},
            "value": user.name}})
    if user.hpr:
        extensions.append({"url": OTHER_ID, "valueIdentifier": {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NPI"}]},
            "system": f"urn:oid:{HPR_OID}", "value": user.hpr}})
    return extensions


def _organization(name: str, identifier: str, oid: str, role_class: str, display: str) -> dict[str, Any]:
    who: dict[str, Any] = {}
    if identifier:
        who["identifier"] = {"system": f"urn:oid:{oid}", "value": identifier}
    if name:
        who["display"] = name
    return {"type": {"coding": [{"system": ROLE_CLASS, "code": role_class, "display": display}]},
            "who": who, "requestor": False}


def _source(record: AuditRecord) -> dict[str, Any]:
    source: dict[str, Any] = {
        "observer": {"display": record.source_id or "xdsno"},
        "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
                  "display": "Application Server"}],
    }
    if record.site_id:
        source["site"] = record.site_id
    return source


def _entities(record: AuditRecord) -> list[dict[str, Any]]:
    entities = [_patient(patient) for patient in record.patients]
    entities += [_document(document) for document in record.documents]
    if record.submission_set:
        entities.append(_entity("2", "System Object", "20", "Job", {"identifier": {"value": record.submission_set}}))
    if record.query is not None:
        query = _entity("2", "System Object", "24", "Query", {"identifier": {"value": record.query.id}})
        query["query"] = base64.b64encode(record.query.text.encode("utf-8")).decode("ascii")
        if record.query.name:
            query["description"] = record.query.name
        entities.append(query)
    if record.user is not None and (record.user.consent or record.user.resource_id):
        entities.append(_consent(record.user))
    if record.policy is not None:
        entities.append(_policy(record))
    if record.event.event_id == SECURITY_ALERT:
        entities.append(_alert_subject(record))
    return entities


def _alert_subject(record: AuditRecord) -> dict[str, Any]:
    what = {"identifier": {"type": {"coding": [coding(NODE_ID)]}, "value": record.requestor.address or "unknown"}}
    entity = _entity("2", "System Object", "13", "Security Resource", what)
    if record.outcome_description:
        entity["detail"] = [{"type": "Alert Description", "valueString": record.outcome_description}]
    return entity


def _patient(cx: str) -> dict[str, Any]:
    identifier, _, rest = cx.partition("^^^")
    authority = rest.split("&")[1] if rest.count("&") >= 2 else ""
    what = {"identifier": {"value": identifier}, "display": cx}
    if authority:
        what["identifier"]["system"] = f"urn:oid:{authority}"
    return _entity("1", "Person", "1", "Patient", what)


def _document(document: DocumentRef) -> dict[str, Any]:
    entity = _entity("2", "System Object", "3", "Report", {"identifier": {"value": document.unique_id}})
    details = [("Repository Unique Id", document.repository_unique_id),
               ("ihe:homeCommunityID", document.home_community_id)]
    details = [{"type": kind, "valueString": value} for kind, value in details if value]
    if details:
        entity["detail"] = details
    return entity


def _consent(user: AuditUser) -> dict[str, Any]:
    details = [{"type": "urn:ihe:iti:xua:2012:acp", "valueString": acp} for acp in user.consent]
    if user.resource_id:
        details.append({"type": "urn:oasis:names:tc:xacml:2.0:resource:resource-id", "valueString": user.resource_id})
    return {"type": {"system": "http://hl7.org/fhir/resource-types", "code": "Consent"}, "detail": details}


def _policy(record: AuditRecord) -> dict[str, Any]:
    policy = record.policy
    entity = _entity("2", "System Object", "13", "Security Resource", {"display": policy.rule or "access policy"})
    entity["detail"] = [{"type": name, "valueString": str(value)} for name, value in (
        ("denied", policy.denied), ("override", policy.override), ("hidden", policy.hidden),
        ("reason", policy.reason), ("override_reason", policy.override_reason),
        ("overridden_documents", " ".join(policy.overridden_documents))) if value not in ("", None)]
    return entity


def _entity(type_code: str, type_display: str, role_code: str, role_display: str,
            what: dict[str, Any]) -> dict[str, Any]:
    return {"what": what, "type": {"system": ENTITY_TYPE, "code": type_code, "display": type_display},
            "role": {"system": OBJECT_ROLE, "code": role_code, "display": role_display}}


class FhirSender:
    """Delivers records to a FHIR audit repository, one RESTful create each (2xx = delivered)."""

    def __init__(self, url: str, *, verify: ssl.SSLContext | bool = True, timeout: float = 10.0):
        self.name = "fhir"
        base = url.rstrip("/")
        self.url = base if base.endswith("/AuditEvent") else base + "/AuditEvent"
        self._client = httpx.Client(verify=verify, timeout=timeout)

    def send(self, records: Sequence[AuditRecord]) -> None:
        for number, record in enumerate(records):
            try:
                self._post(record)
            except (httpx.HTTPError, OSError) as exc:
                raise PartialDelivery(number, f"{self.url}: {exc}") from exc

    def _post(self, record: AuditRecord) -> None:
        response = self._client.post(self.url, content=audit_event_json(record).encode("utf-8"),
                                     headers={"Content-Type": "application/fhir+json",
                                              "Accept": "application/fhir+json"})
        if not response.is_success:
            raise OSError(f"answered {response.status_code} to AuditEvent {record.id}")

    def close(self) -> None:
        self._client.close()
