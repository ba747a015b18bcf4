"""ITI-51 Multi-Patient Stored Query and ITI-62 Remove Metadata against the real `xdsno serve`
process over loopback, on SQLite and on PostgreSQL (XDSNO_TEST_DATABASE_URL): both served at
/registry next to ITI-42 and ITI-18, listed by /health, answered with the response action of
their WSDL, schema-valid both ways, and each request leaving exactly one audit record of its
transaction (Query 110112 E for ITI-51, DICOM Study Deleted 110105 D for ITI-62).
"""
from __future__ import annotations

import uuid

import httpx
import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from registry.endpoints import DELETE_DOCUMENT_SET, MULTI_PATIENT_STORED_QUERY, REGISTRY_STORED_QUERY
from registry.store import open_engine
from soap.client import SoapClient
from tests.databases import KINDS, fresh_database_url
from tests.profiles.xml_support import assert_valid
from tests.server import running_server
from xdsno.audit.store import AuditStore

from .queries.support import q, ql, read_answer, request
from .support import SAMPLE_DOMAIN, fresh_submission
from .test_iti18_integration import REGISTER, for_patient, new_patient
from .test_removal import ALL, remove_request, with_uuids

pytestmark = pytest.mark.integration

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
CONSULT = "Consult^^Connect-a-thon classCodes"


@pytest.fixture(scope="module", params=KINDS)
def node(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"rmd-{request.param}")
    with fresh_database_url(request.param, folder if request.param == "sqlite" else None) as url:
        args = ("--profile", "ihe", "--patient-domain", SAMPLE_DOMAIN, "--database-url", url)
        with running_server(folder / "data", *args) as server, SoapClient(server.url("/registry")) as client:
            audit = AuditStore(open_engine(url, pool_size=1))
            try:
                yield server, client, audit
            finally:
                audit.engine.dispose()


def call(node, action: str, body: etree._Element):
    """Send `body`; exactly one audit record must follow. The reply body and that record."""
    _, client, audit = node
    before = audit.count()
    reply = client.call(action, body)
    assert reply.fault is None, reply.fault
    assert reply.addressing.action == action + "Response"
    assert audit.count() == before + 1
    return reply.body, audit.records(limit=100000)[-1]


def register(node, submission) -> None:
    body, _ = call(node, REGISTER, encode_submit_objects_request(submission))
    assert read_registry_response(body) == (Status.SUCCESS, [])


def multi_patient(*patients: str, return_type: str = "ObjectRef") -> etree._Element:
    params = {"$XDSDocumentEntryClassCode": ql(CONSULT), "$XDSDocumentEntryStatus": ql(APPROVED)}
    if patients:
        params["$XDSDocumentEntryPatientId"] = ql(*patients)
    body = request("FindDocumentsForMultiplePatients", return_type, **params)
    assert_valid(body, "query")
    return body


def test_health_lists_both_transactions(node):
    server, _, _ = node
    actions = httpx.get(server.url("/health")).json()["actors"]["registry"]["actions"]
    assert {MULTI_PATIENT_STORED_QUERY, DELETE_DOCUMENT_SET} <= set(actions)


def test_multi_patient_query_answers_several_patients_and_is_audited_as_a_query(node):
    first, second = new_patient(), new_patient()
    submitted = {patient: for_patient(fresh_submission(), patient) for patient in (first, second)}
    for submission in submitted.values():
        register(node, submission)
    body, record = call(node, MULTI_PATIENT_STORED_QUERY, multi_patient(first, second, return_type="LeafClass"))
    assert_valid(body, "query")
    answer = read_answer(body)
    assert answer.ok and len(answer.ids) == 4
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-51", "110112", "E")
    assert set(record.patients) == {first, second} and record.query.name == "FindDocumentsForMultiplePatients"
    assert record.outcome == 0
    # the citizen's access log (innsynslogg) of each patient shows the query with their documents only
    server, _, _ = node
    for patient, submission in submitted.items():
        entries = httpx.get(server.url("/innsynslogg"), params={"patient": patient}).json()["entries"]
        [entry] = [e for e in entries if e["transaction"] == "ITI-51"]
        assert sorted(entry["documents"]) == sorted(d.unique_id for d in submission.document_entries)


def test_an_iti18_query_on_the_iti51_action_is_unknown(node):
    patient = new_patient()
    single = request("FindDocuments", **{"$XDSDocumentEntryPatientId": q(patient),
                                         "$XDSDocumentEntryStatus": ql(APPROVED)})
    body, record = call(node, MULTI_PATIENT_STORED_QUERY, single)
    assert read_answer(body).codes == [ErrorCode.UNKNOWN_STORED_QUERY] and record.outcome == 8
    body, _ = call(node, REGISTRY_STORED_QUERY, multi_patient(patient))
    assert read_answer(body).codes == [ErrorCode.UNKNOWN_STORED_QUERY]


def test_remove_metadata_removes_a_submission_all_or_nothing(node):
    patient = new_patient()
    submission, ids = with_uuids(for_patient(fresh_submission(), patient))
    register(node, submission)
    unknown = f"urn:uuid:{uuid.uuid4()}"
    refused = remove_request(*(ids[name] for name in ALL), unknown)
    assert_valid(refused, "lcm")
    body, record = call(node, DELETE_DOCUMENT_SET, refused)
    assert_valid(body, "rs")
    status, issues = read_registry_response(body)
    assert (status, [(i.code, i.location) for i in issues]) == (Status.FAILURE,
                                                                [(ErrorCode.UNRESOLVED_REFERENCE, unknown)])
    assert (record.event.transaction, record.event.event_id.code, record.event.action) == ("ITI-62", "110105", "D")
    assert record.outcome == 8
    assert len(read_answer(call(node, MULTI_PATIENT_STORED_QUERY, multi_patient(patient))[0]).ids) == 2

    body, record = call(node, DELETE_DOCUMENT_SET, remove_request(*(ids[name] for name in ALL)))
    assert read_registry_response(body) == (Status.SUCCESS, []) and record.outcome == 0
    # the audit record names the patient and the DocumentEntries removed (RMD)
    assert record.patients == (patient,)
    assert {d.unique_id for d in record.documents} == {e.unique_id for e in submission.document_entries}
    assert read_answer(call(node, MULTI_PATIENT_STORED_QUERY, multi_patient(patient))[0]).ids == []


def test_remove_metadata_refuses_to_leave_a_dangling_reference(node):
    submission, ids = with_uuids(for_patient(fresh_submission(), new_patient()))
    register(node, submission)
    body, _ = call(node, DELETE_DOCUMENT_SET, remove_request(ids["Document02"]))
    status, issues = read_registry_response(body)
    assert (status, [i.code for i in issues]) == (Status.FAILURE, [ErrorCode.REFERENCES_EXIST])
