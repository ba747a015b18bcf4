"""ITI-42 (and the ITI-18 endpoint, /admin/patients, `xdsno patients`) against the real
`xdsno serve` process over loopback, on SQLite and on PostgreSQL (XDSNO_TEST_DATABASE_URL).

Every request sent is validated against lcm.xsd and every response against rs.xsd/query.xsd
(../shared/ihe/schema). After every Failure the database holds exactly the rows it held before.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import httpx
import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import Status
from profiles.model import Submission
from profiles.responses import read_registry_response
from profiles.vocabulary import QUERY, AssociationType, AvailabilityStatus
from registry.store import open_engine
from soap.client import SoapClient
from tests.databases import KINDS, fresh_database_url
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid
from tests.server import REPO_ROOT, RunningServer, running_server

from .support import (
    RELATIONSHIPS, SAMPLE_DOMAIN, codes, fresh_submission, reference_submission, relationship_submission,
    row_counts, status_of, uuid_of,
)

pytestmark = pytest.mark.integration

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
APPROVED = AvailabilityStatus.APPROVED.value
DEPRECATED = AvailabilityStatus.DEPRECATED.value


@dataclass
class Node:
    server: RunningServer
    database_url: str
    engine: object
    client: SoapClient

    def submit(self, submission: Submission) -> tuple[Status, list]:
        request = encode_submit_objects_request(submission)
        assert_valid(request, "lcm")
        reply = self.client.call(REGISTER, request)
        assert reply.fault is None, reply.fault
        assert reply.addressing.action == REGISTER + "Response"
        assert_valid(reply.body, "rs")
        return read_registry_response(reply.body)

    def accepted(self, submission: Submission) -> Submission:
        status, issues = self.submit(submission)
        assert status is Status.SUCCESS, issues
        return submission

    def rejected(self, submission: Submission, *expected: str) -> list:
        before = row_counts(self.engine)
        status, issues = self.submit(submission)
        assert status is Status.FAILURE
        assert codes(issues) == list(expected), issues
        assert row_counts(self.engine) == before
        return issues


@pytest.fixture(scope="module", params=KINDS)
def database(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"db-{request.param}")
    with fresh_database_url(request.param, folder) as url:
        yield url


def _node(data_dir, url, env=None):
    args = ("--profile", "ihe", "--patient-domain", SAMPLE_DOMAIN, "--database-url", url)
    with running_server(data_dir, *args, env=env) as server, SoapClient(server.url("/registry")) as client:
        engine = open_engine(url, pool_size=2)
        try:
            yield Node(server, url, engine, client)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def node(database, tmp_path_factory):
    yield from _node(tmp_path_factory.mktemp("node") / "data", database)


# --- accepted ---------------------------------------------------------------------------

def test_valid_submission_is_accepted_and_stored(node):
    before = row_counts(node.engine)["registry_object"]
    submission = node.accepted(fresh_submission())
    assert row_counts(node.engine)["registry_object"] == before + 9
    assert status_of(node.engine, uuid_of(node.engine, submission)) == APPROVED


@pytest.mark.parametrize("kind", RELATIONSHIPS, ids=lambda k: k.rsplit(":", 1)[-1])
def test_each_relationship_is_accepted(node, kind):
    original = node.accepted(fresh_submission())
    target = uuid_of(node.engine, original)
    related = node.accepted(relationship_submission(kind, target))
    replaced = kind in (AssociationType.REPLACE, AssociationType.TRANSFORM_AND_REPLACE)
    assert status_of(node.engine, target) == (DEPRECATED if replaced else APPROVED)
    assert status_of(node.engine, uuid_of(node.engine, related)) == APPROVED


def test_document_filed_by_reference_is_accepted(node):
    target = uuid_of(node.engine, node.accepted(fresh_submission()))
    node.accepted(reference_submission(target))


# --- rejected, each with its code ---------------------------------------------------------

def test_duplicate_unique_id_in_registry(node):
    first = node.accepted(fresh_submission())
    node.rejected(fresh_submission(submission_set=lambda s: s.with_changes(unique_id=first.submission_set.unique_id)),
                  "XDSDuplicateUniqueIdInRegistry")


def test_non_identical_hash(node):
    first = node.accepted(fresh_submission())
    node.rejected(fresh_submission(doc=lambda d: d.with_changes(unique_id=first.document_entries[0].unique_id,
                                                                hash="f" * 40)),
                  "XDSNonIdenticalHash")


def test_non_identical_size(node):
    first = node.accepted(fresh_submission())
    node.rejected(fresh_submission(doc=lambda d: d.with_changes(unique_id=first.document_entries[0].unique_id,
                                                                size="12345")),
                  "XDSNonIdenticalSize")


def test_unknown_patient_domain(node):
    stranger = "ST-1000^^^&1.2.3.4.5&ISO"
    node.rejected(fresh_submission(
        submission_set=lambda s: s.with_changes(patient_id=stranger),
        doc=lambda d: d.with_changes(patient_id=stranger), doc2=lambda d: d.with_changes(patient_id=stranger),
        folder=lambda f: f.with_changes(patient_id=stranger)), "XDSUnknownPatientId")


@pytest.mark.parametrize("kind", RELATIONSHIPS, ids=lambda k: k.rsplit(":", 1)[-1])
def test_relationship_to_unknown_target(node, kind):
    unknown = "urn:uuid:7a1e0c3f-8d2b-4e55-9c61-0123456789ab"
    node.rejected(relationship_submission(kind, unknown), "XDSRegistryMetadataError")


@pytest.mark.parametrize("kind", RELATIONSHIPS, ids=lambda k: k.rsplit(":", 1)[-1])
def test_relationship_to_deprecated_target(node, kind):
    target = uuid_of(node.engine, node.accepted(fresh_submission()))
    node.accepted(relationship_submission(AssociationType.REPLACE, target))
    node.rejected(relationship_submission(kind, target), "XDSRegistryDeprecatedDocumentError")


def test_relationship_to_another_patients_document(node):
    target = uuid_of(node.engine, node.accepted(fresh_submission()))
    other = samples.OTHER_PATIENT_ID
    submission = relationship_submission(AssociationType.REPLACE, target, doc=lambda d: d.with_changes(patient_id=other))
    submission = submission.with_changes(submission_sets=tuple(s.with_changes(patient_id=other)
                                                               for s in submission.submission_sets))
    node.rejected(submission, "XDSPatientIdDoesNotMatch")
    assert status_of(node.engine, target) == APPROVED


def test_taken_entry_uuid(node):
    taken = uuid_of(node.engine, node.accepted(fresh_submission()))
    node.rejected(fresh_submission(
        doc=lambda d: d.with_changes(id=taken),
        associations=lambda a: tuple(x.with_changes(target=taken) if x.target == samples.DOCUMENT_1 else x
                                     for x in a)), "XDSRegistryMetadataError")


def test_metadata_error_from_the_profile(node):
    node.rejected(fresh_submission(doc=lambda d: d.with_changes(creation_time="2005122")), "XDSRegistryMetadataError")


def test_wrong_body_is_a_registry_error_response(node):
    before = row_counts(node.engine)
    reply = node.client.call(REGISTER, etree.Element(f"{{{QUERY}}}AdhocQueryRequest"))
    assert reply.fault is None
    assert_valid(reply.body, "rs")
    status, issues = read_registry_response(reply.body)
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]
    assert row_counts(node.engine) == before


def test_stored_query_endpoint_answers_an_adhoc_query_response(node):
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnType="LeafClass")
    etree.SubElement(request, "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}AdhocQuery",
                     id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d")
    assert_valid(request, "query")
    reply = node.client.call(STORED_QUERY, request)
    assert reply.fault is None
    assert reply.addressing.action == STORED_QUERY + "Response"
    assert reply.body.tag == f"{{{QUERY}}}AdhocQueryResponse"
    assert_valid(reply.body, "query")


# --- known patients only: /admin/patients and the CLI ---------------------------------------

@pytest.fixture(scope="module", params=KINDS)
def known_only(request, tmp_path_factory):
    with fresh_database_url(request.param, tmp_path_factory.mktemp(f"strict-{request.param}")) as url:
        yield from _node(tmp_path_factory.mktemp("strict") / "data", url, env={"XDSNO_KNOWN_PATIENTS_ONLY": "true"})


def test_unfed_patient_is_unknown_until_fed_by_the_admin_call(known_only):
    submission = fresh_submission()
    known_only.rejected(submission, "XDSUnknownPatientId")
    answer = httpx.post(known_only.server.url("/admin/patients"), json={"patients": [samples.PATIENT_ID]})
    assert answer.status_code == 200 and answer.json() == {"added": [samples.PATIENT_ID]}
    assert samples.PATIENT_ID in httpx.get(known_only.server.url("/admin/patients")).json()["patients"]
    known_only.accepted(submission)


def test_admin_call_refuses_bad_ids_and_records_nothing(known_only):
    before = httpx.get(known_only.server.url("/admin/patients")).json()["patients"]
    answer = httpx.post(known_only.server.url("/admin/patients"),
                        json={"patients": ["GOOD-1^^^&1.2.3&ISO", "no-authority"]})
    assert answer.status_code == 400 and "no-authority" in answer.json()["problems"]
    assert httpx.post(known_only.server.url("/admin/patients"), content=b"{not json").status_code == 400
    assert httpx.delete(known_only.server.url("/admin/patients")).status_code == 405
    assert httpx.get(known_only.server.url("/admin/patients")).json()["patients"] == before


def test_patient_fed_by_the_cli_is_accepted(known_only):
    patient = f"CLI-{os.getpid()}^^^&{SAMPLE_DOMAIN}&ISO"
    submission = fresh_submission(submission_set=lambda s: s.with_changes(patient_id=patient),
                                  doc=lambda d: d.with_changes(patient_id=patient),
                                  doc2=lambda d: d.with_changes(patient_id=patient),
                                  folder=lambda f: f.with_changes(patient_id=patient))
    known_only.rejected(submission, "XDSUnknownPatientId")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "xdsno.cli", "patients", "add", patient,
               "--database-url", known_only.database_url, "--data-dir", str(known_only.server.data_dir)]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*command[:4], "list", *command[6:]], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert patient in listed.stdout.splitlines()
    known_only.accepted(submission)
