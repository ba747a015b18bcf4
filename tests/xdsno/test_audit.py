"""xdsno.audit: one BALP-shaped audit record per request, delivered to syslog (RFC 5424 over
TCP/TLS, RFC 5425 octet counting) and FHIR (BALP AuditEvent) through a persistent outbox, and
the citizen's access log without national ids.

The integration tests run a real node (registry, repository, responding gateway, XUA) whose
audit destinations are a syslog receiver and a FHIR receiver inside the test, on loopback."""
from __future__ import annotations

import base64
import contextlib
import json
import re
import ssl
import time
from types import SimpleNamespace

import httpx
import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.vocabulary import QUERY
from registry.store import open_engine
from repository.actions import PROVIDE_AND_REGISTER, RETRIEVE
from scripts.federation_check import find_documents
from soap.client import SoapClient
from soap.router import SoapResponse, SoapRouter
from tests.profiles import samples
from tests.registry.support import fresh_submission
from tests.repository import support as repo
from tests.databases import KINDS, database_url, fresh_database_url  # noqa: F401  (fixture: SQLite, PostgreSQL)
from tests.server import running_server
from tests.soap.support import call_wsgi, request_bytes
from tests.xca_gateway.support import retrieve_request as xca_retrieve_request
from xdsno import devcerts
from xdsno.audit import dicom, fhir, syslog
from xdsno.audit.access_log import access_log, scrub
from xdsno.audit.capture import NOTES_KEY, AuditedEndpoint, AuditRecorder, NodeIdentity
from xdsno.audit.events import SOAP_EVENTS
from xdsno.audit.record import (
    AuditRecord, AuditUser, Coded, DocumentRef, Outcome, PolicyNote, QueryRef, Requestor,
)
from xdsno.audit.setup import audit_senders
from xdsno.audit.shipper import PartialDelivery, Shipper
from xdsno.audit.store import AuditStore
from xdsno.cli import main
from xdsno.settings import Settings, SettingsError, load_settings

from .audit_receivers import FhirReceiver, SyslogReceiver
from .xua_support import ISSUER, fresh_spec, issuer_keys, security_header, signed_assertion

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
ITI39 = "urn:ihe:iti:2007:CrossGatewayRetrieve"
HOME = "urn:oid:2.16.578.1.12.4.1.7.1.999"
PATIENT = samples.PATIENT_ID
#: the user's national id: HelseID puts it in NameID; it must never reach the access log
USER_FNR = "05086900124"
FNR_IN_NAME = "Ola Nordmann 050869 00124"


# --- records for the unit tests -------------------------------------------------------------


def user(**changes) -> AuditUser:
    values = dict(
        subject=USER_FNR, issuer=ISSUER, assertion_id="_a1", name="Kari Nordmann", hpr="565505933",
        role=Coded("LE", "2.16.578.1.12.4.1.1.9060", "Lege"), organization="Helse Vest RHF",
        organization_id="983658725", point_of_care="974557746", point_of_care_name="Haukeland universitetssjukehus",
        department="4208723", department_name="Medisinsk avdeling",
        purpose_of_use=Coded("TREAT", "2.16.840.1.113883.1.11.20448", "Treatment"), home_community_id=HOME,
        consent=("urn:oid:2.16.578.1.12.4.1.7.2.1.5",), resource_id=PATIENT)
    values.update(changes)
    return AuditUser(**values)


def query_record(**changes) -> AuditRecord:
    values = dict(
        event=SOAP_EVENTS[ITI18], outcome=Outcome.SUCCESS, actor="registry", wsa_action=ITI18,
        requestor=Requestor("127.0.0.1", "CN=epj,O=Helse Vest", "http://www.w3.org/2005/08/addressing/anonymous"),
        destination="http://node.example/registry", source_id="node.example", site_id=HOME, user=user(),
        patients=(PATIENT,), documents=(DocumentRef("2.25.1", "1.2.3", HOME, PATIENT, True),),
        query=QueryRef("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d", "FindDocuments",
                       (("$XDSDocumentEntryPatientId", (PATIENT,)),), "", "<rim:AdhocQuery/>"),
        home_community_id=HOME)
    values.update(changes)
    return AuditRecord(**values)


def store_in(tmp_path) -> AuditStore:
    return store_at(f"sqlite:///{tmp_path / 'audit.sqlite3'}")


def store_at(url: str) -> AuditStore:
    store = AuditStore(open_engine(url))
    store.create_schema()
    return store


# --- the record and its forms -----------------------------------------------------------------


def test_record_survives_its_json_form():
    record = query_record(policy=PolicyNote(denied=True, reason="sperret", rule="block", override=False, hidden=2))
    assert AuditRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_syslog_message_follows_rfc_5424():
    record = query_record()
    message = syslog.SyslogFormat(hostname="node.example", version="0.1.0")(record)
    header, bom, msg = message.partition(syslog.BOM)
    match = re.fullmatch(rb'<(\d{1,3})>1 (\S+) node\.example xdsno (\d+) IHE\+RFC-3881 (\[.*\]) ', header)
    assert match and bom, header
    assert int(match.group(1)) == 10 * 8 + 5  # facility security/authorization, severity notice
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", match.group(2))
    assert match.group(4) == (f'[origin software="xdsno" swVersion="0.1.0"]'
                              f'[xdsno@32473 id="{record.id}" event="ITI-18" outcome="0"]').encode()
    assert etree.fromstring(msg).tag == "AuditMessage"


def test_syslog_structured_data_carries_the_record_id_escaped():
    record = query_record()
    assert f'id="{record.id}" event="ITI-18" outcome="0"]'.encode() in syslog.SyslogFormat()(record)
    assert syslog.sd_element("x@1", [("a", 'q"b\\c]d')]) == '[x@1 a="q\\"b\\\\c\\]d"]'


def test_failures_are_sent_as_warnings():
    assert syslog.priority(Outcome.SUCCESS) == 85
    assert syslog.priority(Outcome.SERIOUS_FAILURE) == syslog.priority(Outcome.MINOR_FAILURE) == 84


def test_balp_payload_is_the_fhir_audit_event():
    message = syslog.SyslogFormat(payload="balp")(query_record())
    header, _, msg = message.partition(syslog.BOM)
    assert b" IHE+BALP " in header
    assert json.loads(msg)["resourceType"] == "AuditEvent"


def test_octet_counting_frames_count_bytes_not_characters():
    one, two = "første møte".encode(), b"<85>1 - - - - - - x"
    data = syslog.frame(one) + syslog.frame(two)
    assert data.startswith(str(len(one)).encode() + b" ") and len(one) > len("første møte")
    assert syslog.read_frames(data) == ([one, two], b"")
    assert syslog.read_frames(data[:-3]) == ([one], syslog.frame(two)[:-3])


def test_dicom_audit_message_names_every_participant():
    root = etree.fromstring(dicom.audit_message_bytes(query_record()))
    event = root.find("EventIdentification")
    assert (event.get("EventActionCode"), event.get("EventOutcomeIndicator")) == ("E", "0")
    assert event.find("EventID").get("csd-code") == "110112"
    assert event.find("EventTypeCode").attrib == {"csd-code": "ITI-18", "codeSystemName": "IHE Transactions",
                                                  "originalText": "Registry Stored Query"}
    assert event.find("PurposeOfUse").get("csd-code") == "TREAT"
    roles = [p.find("RoleIDCode").get("csd-code") for p in root.iterfind("ActiveParticipant")]
    assert roles == ["110153", "LE", "110152"]
    human = root.findall("ActiveParticipant")[1]
    assert human.get("UserName") == f"Kari Nordmann<{USER_FNR}@{ISSUER}>" and human.get("UserIsRequestor") == "true"
    objects = {o.get("ParticipantObjectTypeCodeRole"): o for o in root.iterfind("ParticipantObjectIdentification")}
    assert objects["1"].get("ParticipantObjectID") == PATIENT
    assert base64.b64decode(objects["24"].findtext("ParticipantObjectQuery")) == b"<rim:AdhocQuery/>"
    details = {d.get("type"): base64.b64decode(d.get("value")).decode()
               for d in objects["3"].iterfind("ParticipantObjectDetail")}
    assert details == {"Repository Unique Id": "1.2.3", "ihe:homeCommunityID": HOME}
    assert root.find("AuditSourceIdentification").get("AuditSourceID") == "node.example"


def test_fhir_audit_event_follows_balp():
    record = query_record(policy=PolicyNote(override=True, rule="btg", hidden=1))
    event = fhir.audit_event(record)
    assert event["resourceType"] == "AuditEvent" and event["action"] == "E" and event["outcome"] == "0"
    assert event["type"] == {"code": "110112", "system": fhir.DCM, "display": "Query"}
    assert event["subtype"] == [{"system": "urn:ihe:event-type-code", "code": "ITI-18",
                                 "display": "Registry Stored Query"}]
    assert event["meta"]["profile"] == [fhir.SAML_PROFILE]
    assert event["purposeOfEvent"][0]["coding"][0] == {"code": "TREAT", "system": fhir.ACT_REASON,
                                                       "display": "Treatment"}
    agents = {agent["type"]["coding"][0]["code"]: agent for agent in event["agent"]}
    assert agents["110153"]["network"] == {"address": "127.0.0.1", "type": "2"} and not agents["110153"]["requestor"]
    saml = agents["UserSamlAgent"]
    assert saml["who"] == {"identifier": {"system": ISSUER, "value": USER_FNR}, "display": "Kari Nordmann"}
    assert saml["requestor"] and saml["policy"] == ["_a1"] and saml["role"][0]["coding"][0]["code"] == "LE"
    assert {"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": "565505933"}.items() <= \
        saml["extension"][1]["valueIdentifier"].items()
    assert agents["PROV"]["who"] == {"identifier": {"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": "983658725"},
                                     "display": "Helse Vest RHF"}
    entities = {entity.get("role", {}).get("code"): entity for entity in event["entity"]}
    assert entities["1"]["what"]["identifier"] == {"value": "ST-1000", "system": "urn:oid:1.3.6.1.4.1.21367.2003.3.9"}
    assert entities["3"]["detail"] == [{"type": "Repository Unique Id", "valueString": "1.2.3"},
                                       {"type": "ihe:homeCommunityID", "valueString": HOME}]
    assert base64.b64decode(entities["24"]["query"]) == b"<rim:AdhocQuery/>"
    assert {"type": "override", "valueString": "True"} in entities["13"]["detail"]
    assert event["meta"]["tag"] == [{"system": fhir.RECORD_TAG, "code": record.id}]


# --- store, outbox and shipper ----------------------------------------------------------------


class FlakySender:
    """Fails its first `failures` batches, then delivers."""

    def __init__(self, failures: int, name: str = "flaky"):
        self.name = name
        self.failures = failures
        self.received: list[str] = []

    def send(self, records):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("receiver down")
        self.received += [record.id for record in records]

    def close(self):
        pass


@pytest.fixture
def clock(monkeypatch):
    """time.time() under the test's control (the outbox's due times, leases and backoff)."""
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_records_stay_in_the_outbox_until_the_destination_takes_them(database_url, clock):
    store = store_at(database_url)
    records = [query_record() for _ in range(3)]
    for record in records:
        store.append(record, ["flaky"])
    sender = FlakySender(failures=2)
    shipper = Shipper(store, [sender], min_backoff=1, max_backoff=10)
    assert not shipper.ship_once() and store.pending() == {"flaky": 3}
    clock[0] += 0.9
    assert not shipper.ship_once() and sender.failures == 1  # backing off: not even tried
    clock[0] += 0.2
    assert not shipper.ship_once() and sender.failures == 0  # tried, failed again: 2 s now
    clock[0] += 1.9
    assert not shipper.ship_once() and not sender.received
    clock[0] += 0.2
    assert shipper.ship_once() and sender.received == [r.id for r in records]
    assert store.pending() == {}


def test_a_partial_delivery_keeps_only_the_rest(database_url):
    store = store_at(database_url)
    for _ in range(3):
        store.append(query_record(), ["half"])

    class Half(FlakySender):
        def send(self, records):
            raise PartialDelivery(1, "second one refused")

    shipper = Shipper(store, [Half(0, "half")], min_backoff=0.01)
    assert shipper.ship_once()
    assert store.pending() == {"half": 2}


def test_claims_are_leases_no_two_shippers_send_the_same_row(database_url, clock):
    store = store_at(database_url)
    for _ in range(4):
        store.append(query_record(), ["syslog"])
    first = store.claim("syslog", limit=3, lease_seconds=60)
    second = store.claim("syslog", limit=3, lease_seconds=60)
    assert len(first) == 3 and len(second) == 1
    assert not {p.outbox_id for p in first} & {p.outbox_id for p in second}
    clock[0] += 61  # a shipper that died holding a lease: the rows come back
    assert len(store.claim("syslog", limit=10)) == 4


def test_a_restart_delivers_what_the_last_process_left(database_url, clock):
    store = store_at(database_url)
    record = query_record()
    store.append(record, ["flaky"])
    Shipper(store, [FlakySender(1)], min_backoff=1).ship_once()
    store.engine.dispose()
    clock[0] += 1
    reopened = store_at(database_url)  # the next process
    sender = FlakySender(0)
    assert Shipper(reopened, [sender]).ship_once() and sender.received == [record.id]
    assert reopened.records()[0] == record


def test_shipper_thread_delivers_soon_after_a_record_is_queued(tmp_path):
    store = store_in(tmp_path)
    sender = FlakySender(0)
    shipper = Shipper(store, [sender], poll_seconds=30)
    recorder = AuditRecorder(store, NodeIdentity("n", HOME, "http://n"), destinations=["flaky"],
                             on_append=shipper.wake)
    shipper.start()
    try:
        record = query_record()
        recorder.record(record)
        deadline = time.monotonic() + 5
        while not sender.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sender.received == [record.id]
    finally:
        shipper.stop()


def test_syslog_sender_notices_a_receiver_that_went_away(tmp_path):
    receiver = SyslogReceiver().start()
    sender = syslog.SyslogSender("127.0.0.1", receiver.port)
    try:
        sender.send([query_record()])
        assert receiver.wait_for(lambda: len(receiver.messages) == 1)
        receiver.stop()
        time.sleep(0.05)
        with pytest.raises(OSError):  # not written into the closed connection: reconnect, refused
            sender.send([query_record()])
        receiver.start()
        late = query_record()
        sender.send([late])
        assert receiver.wait_for(lambda: late.id in receiver.record_ids())
    finally:
        sender.close()
        receiver.stop()


def test_syslog_over_tls_presents_the_node_certificate(tmp_path):
    ca = devcerts.create_ca(tmp_path / "ca")
    arr = devcerts.create_node("arr", tmp_path / "ca", tmp_path / "arr")
    node = devcerts.create_node("node", tmp_path / "ca", tmp_path / "node")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca.cert))
    server.load_cert_chain(str(arr.cert), str(arr.key))
    server.verify_mode = ssl.CERT_REQUIRED
    with SyslogReceiver(ssl_context=server) as receiver:
        settings = Settings(data_dir=tmp_path, audit_syslog=f"localhost:{receiver.port}", audit_syslog_tls=True,
                            tls_ca_file=str(ca.cert), tls_client_cert_file=str(node.cert),
                            tls_client_key_file=str(node.key))
        [sender] = audit_senders(settings)
        record = query_record()
        sender.send([record])
        assert receiver.wait_for(lambda: record.id in receiver.record_ids())
        assert "node" in receiver.client_subjects[0]
        sender.close()


def test_audit_settings_are_checked():
    assert load_settings(environ={"XDSNO_AUDIT_SYSLOG": "arr.example:6514", "XDSNO_AUDIT_SYSLOG_TLS": "true"}
                         ).audit_syslog_tls
    for bad in ({"audit_syslog": "arr.example"}, {"audit_syslog_format": "xml"},
                {"audit_fhir_url": "arr.example/fhir"}, {"audit_retry_max_seconds": 0}):
        with pytest.raises(SettingsError):
            load_settings(environ={}, overrides=bad)


# --- capture: decisions of the access policy --------------------------------------------------


def _policy_endpoint(tmp_path, decision) -> tuple[AuditedEndpoint, AuditStore]:
    def handler(request):
        request.environ[NOTES_KEY]["decision"] = decision
        return SoapResponse(etree.Element(f"{{{QUERY}}}AdhocQueryResponse",
                                          status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"))

    router = SoapRouter()
    router.register(ITI18, handler)
    store = store_in(tmp_path)
    recorder = AuditRecorder(store, NodeIdentity("n", HOME, "http://n"))
    return AuditedEndpoint(router, recorder, actor="registry", path="/registry"), store


def test_a_denial_by_the_access_policy_is_a_serious_failure(tmp_path):
    decision = SimpleNamespace(allowed=False, reason="the patient has blocked this document", rule="patient-block",
                               override=False, hidden=0)
    endpoint, store = _policy_endpoint(tmp_path, decision)
    content_type, body = request_bytes(ITI18, find_documents(PATIENT))
    assert call_wsgi(endpoint, body, content_type).status == 200
    [record] = store.records()
    assert record.outcome is Outcome.SERIOUS_FAILURE and record.policy.denied
    assert record.outcome_description == "denied by access policy: the patient has blocked this document"
    assert access_log(store, PATIENT)[0]["outcome"] == "denied"


def test_a_break_the_glass_override_is_flagged(tmp_path):
    decision = {"allowed": True, "rule": "permit", "reason": "", "override": True, "hidden": 0,
                "override_reason": "purpose of use BTG", "overridden_documents": ("2.25.7",)}
    endpoint, store = _policy_endpoint(tmp_path, decision)
    content_type, body = request_bytes(ITI18, find_documents(PATIENT))
    call_wsgi(endpoint, body, content_type)
    [record] = store.records()
    assert record.outcome is Outcome.SUCCESS and record.override
    assert record.policy.overridden_documents == ("2.25.7",)
    entry = access_log(store, PATIENT)[0]
    assert (entry["override"], entry["override_reason"]) == (True, "purpose of use BTG")


# --- the citizen's access log -----------------------------------------------------------------


def test_scrub_removes_anything_shaped_like_a_person_number():
    assert scrub(FNR_IN_NAME) == "Ola Nordmann [fjernet]"
    assert scrub(f"{USER_FNR} / 13116900216") == "[fjernet] / [fjernet]"
    assert scrub("HPR 565505933, orgnr 983658725, 2.25.123456789012345") == \
        "HPR 565505933, orgnr 983658725, 2.25.123456789012345"


def test_access_log_names_who_and_why_but_no_national_id(database_url):
    store = store_at(database_url)
    store.append(query_record())
    store.append(query_record(user=user(name=FNR_IN_NAME)))
    store.append(query_record(event=SOAP_EVENTS[PROVIDE_AND_REGISTER]))  # not an access
    entries = access_log(store, PATIENT)
    assert [entry["user"]["name"] for entry in entries] == ["Kari Nordmann", "Ola Nordmann [fjernet]"]
    assert entries[0]["user"] == {"name": "Kari Nordmann", "role": "Lege", "organization": "Helse Vest RHF",
                                  "organization_number": "983658725",
                                  "point_of_care": "Haukeland universitetssjukehus",
                                  "department": "Medisinsk avdeling"}
    assert (entries[0]["purpose"], entries[0]["documents"], entries[0]["access"]) == ("Treatment", ["2.25.1"], "query")
    text = json.dumps(entries)
    assert USER_FNR not in text and "050869" not in text


# --- a real node over loopback ----------------------------------------------------------------


@pytest.fixture(scope="module")
def receivers():
    with SyslogReceiver() as syslog_receiver, FhirReceiver() as fhir_receiver:
        yield syslog_receiver, fhir_receiver


@pytest.fixture(scope="module", params=KINDS)
def node(request, tmp_path_factory, receivers):
    """A node whose audit store is its own SQLite file, or its PostgreSQL database (beside the registry)."""
    syslog_receiver, fhir_receiver = receivers
    base = tmp_path_factory.mktemp("audit-node")
    cert = base / "issuer.pem"
    cert.write_bytes(issuer_keys().cert_pem)
    env = {"XDSNO_AUDIT_SYSLOG": f"127.0.0.1:{syslog_receiver.port}", "XDSNO_AUDIT_FHIR_URL": fhir_receiver.base_url,
           "XDSNO_AUDIT_RETRY_MAX_SECONDS": "1", "XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={cert}"}
    args = ["--profile", "ihe", "--patient-domain", repo.SAMPLE_DOMAIN, "--repository-unique-id", repo.REPOSITORY_ID,
            "--actor", "registry", "--actor", "repository", "--actor", "xca_responding"]
    with contextlib.ExitStack() as stack:
        url = f"sqlite:///{base / 'data' / 'audit.sqlite3'}"
        if request.param == "postgresql":
            url = stack.enter_context(fresh_database_url("postgresql"))
            args += ["--database-url", url]
        server = stack.enter_context(running_server(base / "data", *args, env=env, timeout=60))
        store = AuditStore(open_engine(url))
        stack.callback(store.engine.dispose)
        cli = ["--data-dir", str(server.data_dir)] + args[-2:] * (request.param == "postgresql")
        yield SimpleNamespace(server=server, store=store, published=[], cli=cli)


def xua(name: str = "Kari Nordmann", **attributes) -> etree._Element:
    spec = fresh_spec(name_id=USER_FNR)
    spec.attributes["urn:oasis:names:tc:xacml:1.0:subject:subject-id"] = [name]
    # the patient asked about, as a real assertion names it (the access policy refuses another)
    spec.attributes["urn:oasis:names:tc:xacml:1.0:resource:resource-id"] = [PATIENT]
    spec.attributes.update(attributes)
    return security_header(signed_assertion(spec))


def soap(node, path: str, action: str, body: etree._Element, *, mtom: bool = False, parts=(), header=True):
    with SoapClient(node.server.url(path), timeout=60) as client:
        return client.call(action, body, attachments=list(parts), mtom=mtom, headers=[xua()] if header else [])


def one_record(node, request) -> AuditRecord:
    """Run `request`; exactly one record must have been added: that one."""
    before = node.store.count()
    request()
    assert node.store.count() == before + 1
    return node.store.records(limit=100000)[-1]


def publish(node) -> list[str]:
    built = repo.submission()
    body, parts = repo.mtom_parts(built, repo.contents(built))
    reply = soap(node, "/repository", PROVIDE_AND_REGISTER, body, mtom=True, parts=parts)
    assert reply.fault is None and "Success" in reply.body.get("status")
    uids = [entry.unique_id for entry in built.document_entries]
    node.published.extend(uids)
    return uids


def _flow(node):
    """(name, request, check of its record) of a representative integration flow."""
    uids: list[str] = []

    def admin_post():
        answer = httpx.post(node.server.url("/admin/patients"), json={"patients": [PATIENT]})
        assert answer.status_code == 200

    def iti42():
        reply = soap(node, "/registry", ITI42, encode_submit_objects_request(fresh_submission()), header=False)
        assert "Success" in reply.body.get("status")

    def iti18():
        assert "Success" in soap(node, "/registry", ITI18, find_documents(PATIENT)).body.get("status")

    def iti43():
        reply = soap(node, "/repository", RETRIEVE, repo.retrieve_request([(repo.REPOSITORY_ID, u) for u in uids]),
                     mtom=True)
        assert reply.fault is None

    def iti38():
        assert soap(node, "/xca", ITI38, find_documents(PATIENT)).fault is None

    def iti39():
        request = xca_retrieve_request(*[(HOME, repo.REPOSITORY_ID, u) for u in uids])
        assert soap(node, "/xca", ITI39, request, mtom=True).fault is None

    def refused():
        tampered = xua()
        tampered.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID").text = "someone else"
        with SoapClient(node.server.url("/registry")) as client:
            assert client.call(ITI18, find_documents(PATIENT), headers=[tampered]).fault is not None

    def unknown_action():
        with SoapClient(node.server.url("/registry")) as client:
            assert client.call("urn:test:NoSuchAction", find_documents(PATIENT)).fault is not None

    def admin_get():
        assert httpx.get(node.server.url("/admin/patients")).status_code == 200

    def access_log_get():
        assert httpx.get(node.server.url("/innsynslogg"), params={"patient": PATIENT}).status_code == 200

    def access_log_refused():  # an unsigned citizen assertion: 401 from the admin guard
        unsigned = xua().find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        unsigned.remove(unsigned.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
        saml = "SAML " + base64.b64encode(etree.tostring(unsigned)).decode()
        answer = httpx.get(node.server.url("/innsynslogg"), params={"patient": PATIENT}, headers={"Authorization": saml})
        assert answer.status_code == 401

    def check_published(record):
        assert record.patients == (PATIENT,) and {d.unique_id for d in record.documents} == set(uids)
        assert record.submission_set and record.user.name == "Kari Nordmann"
        return True

    return [
        ("POST /admin/patients", admin_post, lambda r: r.event.name == "POST patients" and r.patients == (PATIENT,)),
        ("ITI-41", lambda: uids.extend(publish(node)), check_published),
        ("ITI-42", iti42, lambda r: r.event.transaction == "ITI-42" and r.user is None),
        ("ITI-18", iti18, lambda r: set(uids) <= {d.unique_id for d in r.documents if d.returned}
         and r.query.name == "FindDocuments" and r.user.purpose_of_use.code == "TREAT"),
        ("ITI-43", iti43, lambda r: r.patients == (PATIENT,) and all(d.returned for d in r.documents)),
        ("ITI-38", iti38, lambda r: set(uids) <= {d.unique_id for d in r.documents}),
        ("ITI-39", iti39, lambda r: r.patients == (PATIENT,) and {d.home_community_id for d in r.documents} == {HOME}),
        ("refused assertion", refused, lambda r: r.outcome is Outcome.SERIOUS_FAILURE
         and r.event.transaction == "ITI-18" and "XUA assertion refused" in r.outcome_description),
        ("unknown action", unknown_action, lambda r: r.outcome is Outcome.SERIOUS_FAILURE
         and r.wsa_action == "urn:test:NoSuchAction"),
        ("GET /admin/patients", admin_get, lambda r: r.event.action == "R"),
        ("GET /innsynslogg", access_log_get, lambda r: r.event.event_id.code == "110101" and r.patients == (PATIENT,)),
        ("refused GET /innsynslogg", access_log_refused, lambda r: r.event.event_id.code == "110101"
         and (r.outcome, r.outcome_description, r.patients) == (Outcome.SERIOUS_FAILURE, "HTTP 401", (PATIENT,))
         and r.policy.denied and r.policy.rule == "admin-access" and "not signed" in r.policy.reason),
    ]


@pytest.mark.integration
def test_every_request_leaves_exactly_one_audit_record(node):
    for name, request, check in _flow(node):
        record = one_record(node, request)
        assert check(record), (name, record)
        expected = {"ITI-41", "ITI-42", "ITI-18", "ITI-43", "ITI-38", "ITI-39"}
        if name in expected:
            assert (record.event.transaction, record.outcome) == (name, Outcome.SUCCESS), record.outcome_description
            assert record.requestor.address == "127.0.0.1" and record.destination.startswith(node.server.base_url)


@pytest.mark.integration
def test_every_record_reaches_both_destinations(node, receivers):
    ids = {record.id for record in node.store.records(limit=100000)}
    assert ids
    for receiver in receivers:
        assert receiver.wait_for(lambda: ids <= receiver.record_ids()), type(receiver).__name__
    syslog_receiver, fhir_receiver = receivers
    assert all(m.startswith(b"<8") and b" IHE+RFC-3881 " in m for m in syslog_receiver.messages)
    assert all(event["resourceType"] == "AuditEvent" for event in fhir_receiver.events)


@pytest.mark.integration
def test_stopped_destinations_lose_no_record(node, receivers):
    everything = lambda: {record.id for record in node.store.records(limit=100000)}  # noqa: E731
    for receiver in receivers:  # all delivered so far, before the receivers die
        assert receiver.wait_for(lambda: everything() <= receiver.record_ids())
        receiver.stop()
    publish(node)
    for _ in range(3):
        soap(node, "/registry", ITI18, find_documents(PATIENT))
    pending = node.store.pending()
    assert pending["syslog"] >= 4 and pending["fhir"] >= 4
    for receiver in receivers:
        receiver.start()
    for receiver in receivers:
        assert receiver.wait_for(lambda: everything() <= receiver.record_ids(), timeout=30), type(receiver).__name__
    # marked delivered right after the receiver took them
    assert receivers[0].wait_for(lambda: node.store.pending() == {}, timeout=10), node.store.pending()


@pytest.mark.integration
def test_access_log_shows_the_accesses_without_national_ids(node):
    uids = node.published[:2] or publish(node)
    soap(node, "/registry", ITI18, find_documents(PATIENT))
    with SoapClient(node.server.url("/registry")) as client:
        client.call(ITI18, find_documents(PATIENT), headers=[xua(name=FNR_IN_NAME)])
    answer = httpx.get(node.server.url("/innsynslogg"), params={"patient": PATIENT})
    assert answer.status_code == 200 and USER_FNR not in answer.text and "050869" not in answer.text
    entries = answer.json()["entries"]
    accessed = {(entry["transaction"], uid) for entry in entries for uid in entry["documents"]}
    assert {("ITI-18", uids[0]), ("ITI-43", uids[0]), ("ITI-38", uids[0]), ("ITI-39", uids[0])} <= accessed
    kari = next(entry for entry in entries if entry["user"].get("name") == "Kari Nordmann")
    assert kari["user"]["organization"] == "Helse Vest RHF" and kari["user"]["department"] == "Medisinsk avdeling"
    assert kari["purpose"] == "Treatment" and kari["time"] and kari["user"]["role"] == "Lege"
    assert any(entry["user"].get("name") == "Ola Nordmann [fjernet]" for entry in entries)
    assert USER_FNR in json.dumps(httpx.get(node.server.url("/admin/audit"), params={"patient": PATIENT}).json())


@pytest.mark.integration
def test_access_log_on_the_command_line(node, capsys):
    assert main(["audit", "access-log", PATIENT, *node.cli]) == 0
    out = capsys.readouterr().out
    assert "Kari Nordmann, Lege, Helse Vest RHF" in out and "[Treatment]" in out
    assert USER_FNR not in out and "050869" not in out
    assert main(["audit", "access-log", PATIENT, "--json", *node.cli]) == 0
    assert json.loads(capsys.readouterr().out)["patient"] == PATIENT


@pytest.mark.integration
def test_audit_reads_check_their_parameters(node):
    assert httpx.get(node.server.url("/innsynslogg")).status_code == 400  # no patient
    assert httpx.get(node.server.url("/admin/audit"), params={"since": "yesterday"}).status_code == 400
    since = node.store.records(limit=100000)[-1].recorded
    records = httpx.get(node.server.url("/admin/audit"), params={"since": since}).json()["records"]
    assert records and all(r["recorded"] >= since for r in records)


@pytest.mark.integration
def test_the_access_policy_decisions_are_recorded(node):
    """Last in the module: the block it adds hides a document from later queries."""
    blocked = publish(node)[0]
    block = {"patient": PATIENT, "document_unique_id": blocked, "hpr_number": "565505933", "note": "ikke fastlegen"}
    record = one_record(node, lambda: httpx.post(node.server.url("/admin/blocks"), json=block).raise_for_status())
    assert (record.event.name, record.event.action, record.patients) == ("POST blocks", "C", (PATIENT,))

    def query(**attributes):
        with SoapClient(node.server.url("/registry")) as client:
            return client.call(ITI18, find_documents(attributes.pop("patient", PATIENT)), headers=[xua(**attributes)])

    hidden = one_record(node, query)
    assert hidden.outcome is Outcome.SUCCESS and hidden.policy.hidden >= 1 and not hidden.policy.override
    assert blocked not in {d.unique_id for d in hidden.documents}
    btg = {"urn:oasis:names:tc:xacml:2.0:action:purpose": [("BTG", "2.16.840.1.113883.1.11.20448", "Break the glass")]}
    override = one_record(node, lambda: query(**btg))
    assert override.override and blocked in override.policy.overridden_documents
    assert blocked in {d.unique_id for d in override.documents}
    denied = one_record(node, lambda: query(patient=samples.OTHER_PATIENT_ID))
    assert denied.outcome is Outcome.SERIOUS_FAILURE and denied.policy.denied
    assert denied.policy.rule == "patient-match" and denied.patients == (samples.OTHER_PATIENT_ID,)
    entries = httpx.get(node.server.url("/innsynslogg"), params={"patient": PATIENT}).json()["entries"]
    last = entries[-2:]  # the hidden one, then the override
    assert blocked not in last[0]["documents"] and last[1]["override"] and blocked in last[1]["documents"]
    assert last[1]["purpose"] == "Break the glass" and last[1]["override_reason"]
    other = httpx.get(node.server.url("/innsynslogg"), params={"patient": samples.OTHER_PATIENT_ID}).json()
    assert other["entries"][-1]["outcome"] == "denied"
