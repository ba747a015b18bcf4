"""Patients' blocks (sperring; xdsno.policy.blocks) over the real `xdsno serve`, with subjects
from real signed XUA assertions (PROFILE.md §6): a block hides its documents from ITI-18/38
queries and ITI-43/39 retrieves for the health professional or organisation it names and for
nobody else; an author-organisation block and a document block hide just what they name; the
emergency override (purpose BTG, ACP .7) shows them again and the audit record says override.
Blocks are managed with /admin/blocks and `xdsno blocks`."""
from __future__ import annotations

import contextlib
import json
import uuid
from types import SimpleNamespace

import httpx
import pytest
from lxml import etree

from profiles.errors import ErrorCode, Status
from profiles.model import Author
from profiles.responses import read_registry_response
from profiles.vocabulary import RS, XDSB
from registry.store import open_engine
from repository.actions import PROVIDE_AND_REGISTER, RETRIEVE
from scripts.federation_check import entries, find_documents
from soap.client import SoapClient
from tests.databases import KINDS, fresh_database_url
from tests.repository import support as repo
from tests.server import running_server
from tests.xca_gateway.support import retrieve_request as xca_retrieve_request
from tests.xdsno.xua_support import ACP_EXPLICIT, HOME, ISSUER, fresh_spec, issuer_keys, security_header, \
    signed_assertion
from xdsno.audit.store import AuditStore
from xdsno.cli import main as xdsno
from xdsno.xua import names as n

pytestmark = pytest.mark.integration

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
ITI39 = "urn:ihe:iti:2007:CrossGatewayRetrieve"
ORGNR_OID = "2.16.578.1.12.4.1.4.101"
HOSPITAL_A, HOSPITAL_B = "983974880", "983974724"
DR_A, DR_B = "565505933", "9144889"
ORG_OF_A, ORG_OF_B = "983658725", "974557746"
ACP_EMERGENCY = n.ACP_PREFIX + "7"


def new_patient() -> str:
    return f"P{uuid.uuid4().hex[:12]}^^^&{repo.SAMPLE_DOMAIN}&ISO"


@pytest.fixture(scope="module", params=KINDS)
def node(request, tmp_path_factory):
    """registry, repository and responding gateway with XUA, on SQLite (the defaults) or on a
    fresh PostgreSQL database (blocks, registry and audit store there; skipped when none)."""
    base = tmp_path_factory.mktemp(f"blocks-node-{request.param}")
    cert = base / "issuer.pem"
    cert.write_bytes(issuer_keys().cert_pem)
    args = ["--profile", "ihe", "--patient-domain", repo.SAMPLE_DOMAIN, "--repository-unique-id", repo.REPOSITORY_ID,
            "--home-community-id", HOME, "--actor", "registry", "--actor", "repository", "--actor", "xca_responding"]
    with contextlib.ExitStack() as stack:
        audit_url = f"sqlite:///{base / 'data' / 'audit.sqlite3'}"
        if request.param == "postgresql":
            audit_url = stack.enter_context(fresh_database_url("postgresql"))
            args += ["--database-url", audit_url]
        server = stack.enter_context(running_server(base / "data", *args, timeout=60,
                                                    env={"XDSNO_XUA_ISSUER_CERTS": f"{ISSUER}={cert}"}))
        audit = AuditStore(open_engine(audit_url))
        yield SimpleNamespace(server=server, audit=audit)
        audit.engine.dispose()


# --- the requests ------------------------------------------------------------------------------

def assertion(patient: str, *, hpr: str = DR_A, organisation: str = ORG_OF_A, purpose: str = "TREAT",
              acp: str = ACP_EXPLICIT) -> etree._Element:
    """wsse:Security with a signed HelseID-like assertion for `patient`."""
    spec = fresh_spec()
    spec.attributes.update({
        n.RESOURCE_ID[0]: [patient], n.NPI[0]: [hpr], n.ORGANIZATION_ID[0]: [organisation],
        n.CHILD_ORGANIZATION[0]: [organisation], n.ACP[0]: [acp],
        n.PURPOSE_OF_USE[0]: [(purpose, n.PURPOSE_OF_USE_CODE_SYSTEM, purpose)],
    })
    return security_header(signed_assertion(spec))


def call(node, path: str, action: str, body: etree._Element, header: etree._Element | None, *, mtom=False):
    with SoapClient(node.server.url(path), timeout=60) as client:
        reply = client.call(action, body, mtom=mtom, headers=[header] if header is not None else [])
    assert reply.fault is None, reply.fault
    return reply.body


def found(node, patient: str, header, *, path: str = "/registry") -> set[str]:
    """uniqueIds FindDocuments answers at `path` (ITI-18 or ITI-38)."""
    body = call(node, path, ITI18 if path == "/registry" else ITI38, find_documents(patient), header)
    status, issues = read_registry_response(body)
    assert status is Status.SUCCESS, issues
    return {entry["unique_id"] for entry in entries(body)}


def retrieved(node, uids: list[str], header, *, path: str = "/repository"):
    """(uniqueIds returned, errors by uniqueId) of ITI-43 (or ITI-39 at /xca)."""
    if path == "/repository":
        request, action = repo.retrieve_request([(repo.REPOSITORY_ID, uid) for uid in uids]), RETRIEVE
    else:
        request, action = xca_retrieve_request(*[(HOME, repo.REPOSITORY_ID, uid) for uid in uids]), ITI39
    body = call(node, path, action, request, header, mtom=True)
    _, issues = read_registry_response(body.find(f"{{{RS}}}RegistryResponse"))
    returned = {r.findtext(f"{{{XDSB}}}DocumentUniqueId") for r in body.iterfind(f"{{{XDSB}}}DocumentResponse")}
    return returned, {issue.location: issue for issue in issues}


def publish(node, patient: str) -> tuple[str, str]:
    """Two documents of `patient`: one written at hospital A, one at hospital B (ITI-41)."""
    def at(orgnr: str):
        institution = f"Sykehus {orgnr}^^^^^&{ORGNR_OID}&ISO^^^^{orgnr}"
        return lambda d: d.with_changes(patient_id=patient, authors=(Author(person="^Lege^Kari^^^",
                                                                             institutions=(institution,)),))

    built = repo.submission(doc=at(HOSPITAL_A), doc2=at(HOSPITAL_B), then=lambda s: s.with_changes(
        submission_sets=tuple(x.with_changes(patient_id=patient) for x in s.submission_sets),
        folders=tuple(x.with_changes(patient_id=patient) for x in s.folders)))
    body, parts = repo.mtom_parts(built, repo.contents(built))
    with SoapClient(node.server.url("/repository"), timeout=60) as client:
        reply = client.call(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=True)
    status, issues = read_registry_response(reply.body)
    assert status is Status.SUCCESS, issues
    first, second = (entry.unique_id for entry in built.document_entries)
    return first, second


def add_block(node, patient: str, **what) -> dict:
    answer = httpx.post(node.server.url("/admin/blocks"), json={"patient": patient, **what})
    assert answer.status_code == 201, answer.text
    return answer.json()["block"]


def last_decision(node, patient: str, transaction: str):
    records = [r for r in node.audit.records(patient=patient, limit=100000) if r.event.transaction == transaction]
    return records[-1].policy


# --- blocks ---------------------------------------------------------------------------------------

def test_a_block_for_a_named_professional_hides_the_documents_from_that_one_only(node):
    patient = new_patient()
    first, second = publish(node, patient)
    add_block(node, patient, hpr_number=DR_A, note="ikke Dr A")
    dr_a, dr_b = assertion(patient, hpr=DR_A), assertion(patient, hpr=DR_B, organisation=ORG_OF_B)

    assert found(node, patient, dr_a) == set()
    assert found(node, patient, dr_b) == {first, second}
    assert found(node, patient, dr_a, path="/xca") == set()
    assert found(node, patient, dr_b, path="/xca") == {first, second}
    decision = last_decision(node, patient, "ITI-38")
    assert not decision.denied and decision.hidden == 0  # Dr B's query: nothing hidden

    returned, errors = retrieved(node, [first], dr_a)
    assert returned == set() and errors[first].code == ErrorCode.DOCUMENT_UNIQUE_ID_ERROR
    assert errors[first].context == f"document uniqueId {first} is not in repository {repo.REPOSITORY_ID}"
    assert retrieved(node, [first, second], dr_b)[0] == {first, second}
    assert retrieved(node, [second], dr_a, path="/xca")[0] == set()
    assert retrieved(node, [second], dr_b, path="/xca")[0] == {second}


def test_hidden_and_absent_documents_are_answered_alike(node):
    patient = new_patient()
    first, _ = publish(node, patient)
    add_block(node, patient, hpr_number=DR_A)
    missing = "2.25.999" + str(uuid.uuid4().int)[:20]
    _, errors = retrieved(node, [first, missing], assertion(patient))
    hidden, absent = errors[first], errors[missing]
    assert (hidden.code, hidden.severity) == (absent.code, absent.severity)
    assert hidden.context.replace(first, "X") == absent.context.replace(missing, "X")


def test_a_block_for_an_organisation_applies_to_its_personnel_only(node):
    patient = new_patient()
    first, second = publish(node, patient)
    add_block(node, patient, organisation=ORG_OF_A)
    assert found(node, patient, assertion(patient, hpr=DR_B, organisation=ORG_OF_A)) == set()
    assert found(node, patient, assertion(patient, hpr=DR_B, organisation=ORG_OF_B)) == {first, second}


def test_an_author_organisation_block_hides_what_that_organisation_wrote(node):
    patient = new_patient()
    first, second = publish(node, patient)
    add_block(node, patient, author_organisation=HOSPITAL_A)
    for header in (assertion(patient), assertion(patient, hpr=DR_B, organisation=ORG_OF_B)):
        assert found(node, patient, header) == {second}
        assert retrieved(node, [first, second], header)[0] == {second}
    decision = last_decision(node, patient, "ITI-43")
    assert decision.hidden == 1 and decision.rule == "patient-block" and not decision.override


def test_a_document_block_hides_that_document_and_can_be_removed(node):
    patient = new_patient()
    first, second = publish(node, patient)
    block = add_block(node, patient, document_unique_id=first)
    assert found(node, patient, assertion(patient)) == {second}
    assert found(node, patient, assertion(patient), path="/xca") == {second}
    assert httpx.delete(node.server.url(f"/admin/blocks/{block['id']}")).status_code == 200
    assert found(node, patient, assertion(patient)) == {first, second}


@pytest.mark.parametrize("emergency", [{"purpose": "BTG"}, {"acp": ACP_EMERGENCY}], ids=["BTG", "ACP.7"])
def test_the_emergency_override_shows_blocked_documents_and_is_audited_as_override(node, emergency):
    patient = new_patient()
    first, second = publish(node, patient)
    add_block(node, patient, hpr_number=DR_A)
    header = assertion(patient, **emergency)
    assert found(node, patient, header) == {first, second}
    decision = last_decision(node, patient, "ITI-18")
    assert decision.override and not decision.denied and set(decision.overridden_documents) == {first, second}
    assert "patient-block lifted by" in decision.override_reason
    assert retrieved(node, [first], header)[0] == {first}
    assert last_decision(node, patient, "ITI-43").override
    assert retrieved(node, [first], header, path="/xca")[0] == {first}
    assert last_decision(node, patient, "ITI-39").override


def test_nors_is_hidden_from_personnel_unless_overridden(node):
    patient = new_patient()
    nors = repo.submission(documents=1, doc=lambda d: d.with_changes(
        patient_id=patient, confidentiality_codes=(repo.samples.code("NORS", "2.16.578.1.12.4.1.1.9603", "Sperret"),)),
        then=lambda s: s.with_changes(submission_sets=tuple(x.with_changes(patient_id=patient)
                                                              for x in s.submission_sets),
                                      folders=tuple(x.with_changes(patient_id=patient) for x in s.folders)))
    body, parts = repo.mtom_parts(nors, repo.contents(nors))
    with SoapClient(node.server.url("/repository"), timeout=60) as client:
        assert "Success" in client.call(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=True).body.get("status")
    uid = nors.document_entries[0].unique_id
    assert found(node, patient, assertion(patient, acp=n.ACP_PREFIX + "8")) == set()
    assert found(node, patient, assertion(patient, purpose="ETREAT")) == {uid}
    assert last_decision(node, patient, "ITI-18").override


def test_a_query_about_another_patient_is_refused_and_audited_as_denied(node):
    patient = new_patient()
    publish(node, patient)
    body = call(node, "/registry", ITI18, find_documents(patient), assertion(new_patient()))
    status, issues = read_registry_response(body)
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.LOCAL_POLICY_RESTRICTION]
    assert "other than the assertion's patient" in issues[0].context
    assert last_decision(node, patient, "ITI-18").denied


def test_without_an_assertion_a_trusted_node_answers_as_before(node):
    patient = new_patient()
    first, second = publish(node, patient)
    add_block(node, patient, hpr_number=DR_A)
    assert found(node, patient, None) == {first, second}
    assert retrieved(node, [first, second], None)[0] == {first, second}


# --- managing blocks ------------------------------------------------------------------------------

def test_admin_blocks_create_list_get_and_delete(node):
    patient = new_patient()
    url = node.server.url("/admin/blocks")
    created = add_block(node, patient, author_organisation=HOSPITAL_A, hpr_number=DR_B, note="kun sykehus A")
    assert created["patient_id"] == patient and created["id"] > 0
    listed = httpx.get(url, params={"patient": patient}).json()["blocks"]
    assert [b["id"] for b in listed] == [created["id"]]
    assert httpx.get(f"{url}/{created['id']}").json()["block"] == created
    assert httpx.delete(f"{url}/{created['id']}").json()["removed"] == created
    assert httpx.delete(f"{url}/{created['id']}").status_code == 404
    assert httpx.get(url, params={"patient": patient}).json()["blocks"] == []


def test_admin_blocks_refuses_what_it_cannot_store(node):
    url = node.server.url("/admin/blocks")
    answer = httpx.post(url, json={"patient": new_patient(), "hpr_number": DR_A, "organisation": ORG_OF_A})
    assert answer.status_code == 400 and "either hpr_number or organisation" in answer.json()["error"]
    assert httpx.post(url, content=b"not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.get(url).status_code == 400
    assert httpx.put(url, json={}).status_code == 405


def test_blocks_command_adds_lists_and_removes(tmp_path, capsys):
    patient = new_patient()
    data = ["--data-dir", str(tmp_path)]
    assert xdsno(["blocks", "add", patient, "--hpr", DR_A, "--note", "ikke Dr A", *data]) == 0
    added = capsys.readouterr().out
    assert '"hpr_number": "565505933"' in added
    assert xdsno(["blocks", "list", patient, *data]) == 0
    assert capsys.readouterr().out == added
    block_id = json.loads(added)["id"]
    assert xdsno(["blocks", "remove", str(block_id), *data]) == 0
    assert xdsno(["blocks", "remove", str(block_id), *data]) == 1
    assert xdsno(["blocks", "add", patient, *data]) == 1
    assert "a block names" in capsys.readouterr().err
