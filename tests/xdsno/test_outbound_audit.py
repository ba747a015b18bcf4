"""The Initiating Gateway audits every request it sends to a community (ITI TF-2 3.38.6, 3.39.6),
besides the one record of the consumer's request it answered (xdsno.audit.outbound).

Unit: OutboundAudit builds the Document Consumer-side record of an exchange. Integration: a real
`xdsno serve --actor xca_initiating` in front of fake communities, with XUA configured so the
records carry the forwarded user.
"""
from __future__ import annotations

import httpx
import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import Status
from registry.store import open_engine
from repository.actions import PROVIDE_AND_REGISTER
from soap.client import SoapClient, SoapReply
from soap.faults import SoapFault
from soap.observed import Exchange
from tests.profiles import samples
from tests.registry.support import fresh_submission
from tests.repository import support as repo
from tests.server import running_server
from tests.xca_gateway.initiating_fakes import FakeCommunity, serve
from tests.xca_gateway.initiating_support import (
    ITI18,
    ITI43,
    PATIENT_ID,
    find_documents,
    retrieve_request,
    status_and_issues,
)
from tests.xdsno.xua_support import ISSUER, fresh_spec, issuer_keys, security_header, signed_assertion
from xdsno.audit.access_log import access_log
from xdsno.audit.capture import PENDING_KEY, AuditRecorder, NodeIdentity, PendingRecords
from xdsno.audit.outbound import CROSS_GATEWAY_QUERY, CROSS_GATEWAY_RETRIEVE, REGISTER, OutboundAudit
from xdsno.audit.record import Outcome
from xdsno.audit.store import AuditStore

NATIONAL = "urn:oid:2.16.578.1.12.4.1.7.1.1"
NORD, VEST = "urn:oid:2.16.578.1.12.4.1.7.1.2", "urn:oid:2.16.578.1.12.4.1.7.1.3"
LOCAL_URL = "http://national.test/xca/initiating"
REMOTE_URL = "http://nord.test/xca"


# --- OutboundAudit, unit ---------------------------------------------------------------------


@pytest.fixture
def audit(tmp_path):
    store = AuditStore(open_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}"))
    store.create_schema()
    yield OutboundAudit(AuditRecorder(store, NodeIdentity("national", NATIONAL, "http://national.test")),
                        actor="xca_initiating", local_url=LOCAL_URL)
    store.engine.dispose()


def _exchange(action: str, request: etree._Element, **ending) -> Exchange:
    return Exchange(REMOTE_URL, action, request, home_community_id=NORD, **ending)


def _reply(body: etree._Element | None = None, fault: SoapFault | None = None, status: int = 200) -> SoapReply:
    return SoapReply(status_code=status, addressing=None, header=None, body=body, attachments={}, xop={},
                     is_mtom=False, request_message_id="urn:uuid:out-1", fault=fault)


def test_a_query_sent_is_a_consumer_query_from_this_gateway_to_the_community(audit):
    answer = etree.fromstring(
        b'<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>')
    record = audit.outbound_record(_exchange(CROSS_GATEWAY_QUERY, find_documents(), reply=_reply(answer)))
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-38", "110112", "E")
    assert record.outbound and record.outcome is Outcome.SUCCESS
    assert (record.requestor.endpoint, record.destination) == (LOCAL_URL, REMOTE_URL)
    assert record.patients == (PATIENT_ID,) and record.query.name == "FindDocuments"
    assert record.home_community_id == NORD and record.message_id == "urn:uuid:out-1"


def test_a_retrieve_sent_is_an_import_from_the_community(audit):
    request = retrieve_request([(NORD, "1.2.3", "1.2.3.4")])
    record = audit.outbound_record(_exchange(CROSS_GATEWAY_RETRIEVE, request, failure="ConnectError: refused"))
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-39", "110107", "C")
    assert (record.requestor.endpoint, record.destination) == (REMOTE_URL, LOCAL_URL)
    assert [d.unique_id for d in record.documents] == ["1.2.3"]
    assert record.outcome is Outcome.MAJOR_FAILURE
    assert record.outcome_description == f"no answer from {REMOTE_URL}: ConnectError: refused"


def test_a_fault_answered_is_a_failure_naming_it(audit):
    fault = SoapFault("Sender", "no such thing")
    record = audit.outbound_record(_exchange(CROSS_GATEWAY_QUERY, find_documents(), reply=_reply(fault=fault)))
    assert record.outcome is Outcome.SERIOUS_FAILURE and "no such thing" in record.outcome_description


def test_records_made_while_the_request_is_answered_wait_for_its_own_record(audit):
    answer = etree.fromstring(
        b'<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>')
    environ = {PENDING_KEY: PendingRecords()}
    store = audit.recorder.store
    audit(Exchange(REMOTE_URL, CROSS_GATEWAY_QUERY, find_documents(), reply=_reply(answer), context=environ))
    assert store.count() == 0
    waiting = environ[PENDING_KEY].close()
    assert [r.event.transaction for r in waiting] == ["ITI-38"]
    # after the request's records were stored, a late answer is stored at once
    audit(Exchange(REMOTE_URL, CROSS_GATEWAY_QUERY, find_documents(), reply=_reply(answer), context=environ))
    assert store.count() == 1


# --- a real Initiating Gateway --------------------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    communities = [FakeCommunity(NORD, "Helse Nord", {"2.1": b"nord 1"}),
                   FakeCommunity(VEST, "Helse Vest", {"3.1": b"vest 1"})]
    served = [serve(community.router()) for community in communities]
    base = tmp_path_factory.mktemp("national-audit")
    (base / "communities.toml").write_text("".join(
        f'[[community]]\nhome_community_id = "{c.home}"\nname = "{c.name}"\nquery_url = "{s.url}/xca"\n\n'
        for c, s in zip(communities, served)), encoding="utf-8")
    cert = base / "issuer.pem"
    cert.write_bytes(issuer_keys().cert_pem)
    env = {"XDSNO_COMMUNITIES_FILE": str(base / "communities.toml"), "XDSNO_XCA_DEADLINE_SECONDS": "10",
           "XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={cert}"}
    try:
        with running_server(base / "data", "--actor", "xca_initiating", "--home-community-id", NATIONAL,
                            env=env) as server:
            store = AuditStore(open_engine(f"sqlite:///{server.data_dir / 'audit.sqlite3'}"))
            yield server, store, {c.home: s for c, s in zip(communities, served)}
            store.engine.dispose()
    finally:
        for community, server in zip(communities, served):
            community.release()
            server.stop()


def _user_header() -> etree._Element:
    spec = fresh_spec()
    spec.attributes["urn:oasis:names:tc:xacml:1.0:resource:resource-id"] = [PATIENT_ID]
    return security_header(signed_assertion(spec), must_understand=False)  # the fakes know no WS-Security


def _new_records(store: AuditStore, call) -> list:
    before = store.count()
    call()
    return store.records(limit=100000)[before:]


@pytest.mark.integration
def test_a_federated_query_leaves_its_own_record_and_one_per_community_asked(national):
    server, store, fakes = national

    def query():
        with SoapClient(server.url("/xca/initiating"), timeout=60) as client:
            reply = client.call(ITI18, find_documents(), headers=[_user_header()])
        assert status_and_issues(reply.body)[0] is Status.SUCCESS

    records = _new_records(store, query)
    inbound = [r for r in records if not r.outbound]
    outbound = [r for r in records if r.outbound]
    assert [(r.event.transaction, r.outcome) for r in inbound] == [("ITI-18", Outcome.SUCCESS)]
    assert sorted((r.event.transaction, r.destination, r.outcome) for r in outbound) == sorted(
        ("ITI-38", fakes[home].url + "/xca", Outcome.SUCCESS) for home in (NORD, VEST))
    for record in outbound:
        assert record.user.name == inbound[0].user.name == "Kari Nordmann"
        assert record.requestor.endpoint == server.url("/xca/initiating")
        assert record.patients == (PATIENT_ID,)
    # the patient's access log shows the consumer's one access, not the gateway's fan-out
    entries = access_log(store, PATIENT_ID)
    assert [e["transaction"] for e in entries] == ["ITI-18"]


@pytest.mark.integration
def test_a_federated_retrieve_is_audited_per_community_as_an_import(national):
    server, store, _ = national

    def retrieve():
        with SoapClient(server.url("/xca/initiating"), timeout=60) as client:
            client.call(ITI43, retrieve_request([(NORD, "2.1"), (VEST, "3.1")]), headers=[_user_header()])

    outbound = [r for r in _new_records(store, retrieve) if r.outbound]
    assert sorted((r.event.transaction, r.event.event_id.code, r.home_community_id) for r in outbound) == [
        ("ITI-39", "110107", NORD), ("ITI-39", "110107", VEST)]
    assert all(r.destination == server.url("/xca/initiating") and r.documents[0].returned for r in outbound)


@pytest.mark.integration
def test_a_community_that_does_not_answer_is_audited_as_a_major_failure(national):
    server, store, fakes = national
    fakes[VEST].stop()  # last test of the module: stays stopped

    def query():
        with SoapClient(server.url("/xca/initiating"), timeout=60) as client:
            client.call(ITI18, find_documents(), headers=[_user_header()])

    failed = [r for r in _new_records(store, query) if r.outbound and r.home_community_id == VEST]
    assert len(failed) == 1 and failed[0].outcome is Outcome.MAJOR_FAILURE
    assert failed[0].outcome_description.startswith(f"no answer from {fakes[VEST].url}/xca: ")


# --- a repository registering with a remote registry (ITI-42, Document Source side) ----------


def test_a_registration_sent_is_an_export_of_the_submission(audit):
    submission = fresh_submission()
    answer = etree.fromstring(
        b'<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" '
        b'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>')
    exchange = Exchange(REMOTE_URL, REGISTER, encode_submit_objects_request(submission), reply=_reply(answer))
    record = audit.outbound_record(exchange)
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-42", "110106", "R")
    assert (record.requestor.endpoint, record.destination, record.outcome) == (LOCAL_URL, REMOTE_URL, Outcome.SUCCESS)
    assert record.submission_set == submission.submission_set.unique_id
    assert record.patients == (submission.submission_set.patient_id,)
    assert {d.unique_id for d in record.documents} == {e.unique_id for e in submission.document_entries}


@pytest.mark.integration
def test_a_repository_with_a_remote_registry_audits_the_iti42_it_sends(tmp_path):
    domain = ["--profile", "ihe", "--patient-domain", repo.SAMPLE_DOMAIN]
    with running_server(tmp_path / "registry", *domain, "--actor", "registry") as registry:
        assert httpx.post(registry.url("/admin/patients"), json={"patients": [samples.PATIENT_ID]}).status_code == 200
        with running_server(tmp_path / "repository", *domain, "--actor", "repository", "--repository-unique-id",
                            repo.REPOSITORY_ID, env={"XDSNO_REGISTRY_URL": registry.url("/registry")}) as node:
            store = AuditStore(open_engine(f"sqlite:///{node.data_dir / 'audit.sqlite3'}"))
            built = repo.submission()
            body, parts = repo.mtom_parts(built, repo.contents(built))

            def provide():
                with SoapClient(node.url("/repository"), timeout=60) as client:
                    reply = client.call(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=True)
                assert "Success" in reply.body.get("status")

            records = _new_records(store, provide)
            store.engine.dispose()
    assert sorted((r.event.transaction, r.outbound, r.outcome) for r in records) == [
        ("ITI-41", False, Outcome.SUCCESS), ("ITI-42", True, Outcome.SUCCESS)]
    sent = next(r for r in records if r.outbound)
    assert sent.destination == registry.url("/registry") and sent.requestor.endpoint == node.url("/repository")
    assert sent.submission_set == built.submission_set.unique_id
