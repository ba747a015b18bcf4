"""ITI-18 Registry Stored Query against the real `xdsno serve` process over loopback, on SQLite and
on PostgreSQL (XDSNO_TEST_DATABASE_URL): submissions registered with ITI-42, then every stored
query of ITI TF-2 3.18.4.1.2.3.7 asked through SOAP.

Every request is validated against query.xsd before it is sent, every answer after it arrives.
Each module run registers one patient's history:

    S1: SubmissionSet01, Document01, Document02, Folder01 (holding Document01), HasMembers
    S2: Document03 replacing Document01 (RPLC; Document01 becomes Deprecated)
    S3: Document04 appending to Document02 (APND), with a referenceIdList entry
    S4: Document05 of another patient
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from profiles.ebrim import decode_registry_object_list, encode_submit_objects_request
from profiles.errors import ErrorCode, Status
from profiles.model import Submission
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, AssociationType, AvailabilityStatus, ObjectType
from registry.store import ObjectKind, find_by_unique_ids, open_engine
from soap.client import SoapClient
from tests.databases import KINDS, fresh_database_url
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid
from tests.server import running_server

from .queries.support import Answer, q, ql, read_answer, request
from .support import SAMPLE_DOMAIN, fresh_submission, relationship_submission

pytestmark = pytest.mark.integration

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
APPROVED = AvailabilityStatus.APPROVED.value
DEPRECATED = AvailabilityStatus.DEPRECATED.value
RPLC = AssociationType.REPLACE.value
APND = AssociationType.APPEND.value
DE = "$XDSDocumentEntry"
RESULT_LIMIT = 12
HOME = "urn:oid:1.2.3.4.5"
REFERENCE_ID = "order-77^^^&1.2.3.4&ISO^urn:ihe:iti:xds:2013:order"


def new_patient() -> str:
    return f"P{uuid.uuid4().hex[:12]}^^^&{SAMPLE_DOMAIN}&ISO"


def for_patient(submission: Submission, patient: str) -> Submission:
    """Every DocumentEntry, SubmissionSet and Folder of `submission` of `patient`."""
    def move(objects):
        return tuple(o.with_changes(patient_id=patient) for o in objects)
    return submission.with_changes(document_entries=move(submission.document_entries),
                                   submission_sets=move(submission.submission_sets),
                                   folders=move(submission.folders))


@dataclass
class Node:
    client: SoapClient
    engine: object

    def register(self, submission: Submission) -> Submission:
        body = encode_submit_objects_request(submission)
        reply = self.client.call(REGISTER, body)
        assert reply.fault is None, reply.fault
        status, issues = read_registry_response(reply.body)
        assert status is Status.SUCCESS, issues
        return submission

    def ask(self, query: str, return_type: str = "LeafClass", **params) -> Answer:
        body = request(query, return_type, **params)
        assert_valid(body, "query")
        reply = self.client.call(STORED_QUERY, body)
        assert reply.fault is None, reply.fault
        assert reply.addressing.action == STORED_QUERY + "Response"
        assert_valid(reply.body, "query")
        return read_answer(reply.body)

    def uuid(self, kind: ObjectKind, unique_id: str) -> str:
        with self.engine.connect() as conn:
            (found,) = find_by_unique_ids(conn, kind, [unique_id])
        return found.entry_uuid


@dataclass
class History:
    patient: str
    other_patient: str
    ss1: str
    doc1: str
    doc2: str
    folder: str
    ss2: str
    doc3: str
    doc4: str
    doc5: str
    ss1_uid: str
    doc2_uid: str
    folder_uid: str


@pytest.fixture(scope="module", params=KINDS)
def node(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"iti18-{request.param}")
    with fresh_database_url(request.param, folder if request.param == "sqlite" else None) as url:
        args = ("--profile", "ihe", "--patient-domain", SAMPLE_DOMAIN, "--database-url", url)
        env = {"XDSNO_QUERY_RESULT_LIMIT": str(RESULT_LIMIT), "XDSNO_HOME_COMMUNITY_ID": HOME}
        with running_server(folder / "data", *args, env=env) as server, \
                SoapClient(server.url("/registry")) as client:
            engine = open_engine(url, pool_size=1)
            try:
                yield Node(client, engine)
            finally:
                engine.dispose()


@pytest.fixture(scope="module")
def history(node) -> History:
    patient, other = new_patient(), new_patient()
    first = node.register(for_patient(fresh_submission(), patient))
    doc1 = node.uuid(ObjectKind.DOCUMENT_ENTRY, first.document_entries[0].unique_id)
    doc2 = node.uuid(ObjectKind.DOCUMENT_ENTRY, first.document_entries[1].unique_id)
    second = node.register(for_patient(relationship_submission(RPLC, doc1), patient))
    third = node.register(for_patient(relationship_submission(
        APND, doc2, doc=lambda d: d.with_changes(reference_ids=(REFERENCE_ID,))), patient))
    fourth = node.register(for_patient(fresh_submission(
        then=lambda s: s.with_changes(document_entries=s.document_entries[:1], folders=(),
                                      associations=s.associations[:1])), other))
    uid = first.submission_sets[0].unique_id
    return History(
        patient, other, node.uuid(ObjectKind.SUBMISSION_SET, uid), doc1, doc2,
        node.uuid(ObjectKind.FOLDER, first.folders[0].unique_id),
        node.uuid(ObjectKind.SUBMISSION_SET, second.submission_sets[0].unique_id),
        node.uuid(ObjectKind.DOCUMENT_ENTRY, second.document_entries[0].unique_id),
        node.uuid(ObjectKind.DOCUMENT_ENTRY, third.document_entries[0].unique_id),
        node.uuid(ObjectKind.DOCUMENT_ENTRY, fourth.document_entries[0].unique_id),
        uid, first.document_entries[1].unique_id, first.folders[0].unique_id)


def decoded(answer: Answer) -> Submission:
    submission, issues = decode_registry_object_list(answer.element.find(f"{{{RIM}}}RegistryObjectList"))
    return submission


def ok(answer: Answer) -> Answer:
    assert answer.status is Status.SUCCESS and answer.codes == [], answer.codes
    return answer


# --- the Find queries -------------------------------------------------------------------------

def test_find_documents(node, history):
    h = history
    approved = ok(node.ask("FindDocuments", **{DE + "PatientId": q(h.patient), DE + "Status": ql(APPROVED)}))
    assert approved.ids == [h.doc2, h.doc3, h.doc4]
    every = decoded(ok(node.ask("FindDocuments", **{DE + "PatientId": q(h.patient),
                                                    DE + "Status": ql(APPROVED, DEPRECATED)})))
    assert [(d.id, d.status) for d in every.document_entries] == [
        (h.doc1, DEPRECATED), (h.doc2, APPROVED), (h.doc3, APPROVED), (h.doc4, APPROVED)]
    assert all(d.patient_id == h.patient for d in every.document_entries)
    by_class = ok(node.ask("FindDocuments", "ObjectRef", **{
        DE + "PatientId": q(h.patient), DE + "Status": ql(APPROVED),
        DE + "ClassCode": ql("Consult^^Connect-a-thon classCodes"),
        DE + "CreationTimeFrom": "2005", DE + "CreationTimeTo": "2006",
        DE + "AuthorPerson": ql("%Smitty%"), DE + "Type": ql(ObjectType.STABLE_DOCUMENT.value)}))
    assert by_class.ids == [h.doc2, h.doc3, h.doc4] and by_class.tags == ["ObjectRef"] * 3


def test_find_documents_by_reference_id(node, history):
    answer = ok(node.ask("FindDocumentsByReferenceId", **{
        DE + "PatientId": q(history.patient), DE + "Status": ql(APPROVED), DE + "ReferenceIdList": ql(REFERENCE_ID)}))
    assert answer.ids == [history.doc4]


def test_find_submission_sets(node, history):
    answer = ok(node.ask("FindSubmissionSets", **{
        "$XDSSubmissionSetPatientId": q(history.patient), "$XDSSubmissionSetStatus": ql(APPROVED),
        "$XDSSubmissionSetSourceId": ql(samples.SOURCE_ID)}))
    assert len(answer.ids) == 3 and answer.ids[:2] == [history.ss1, history.ss2]
    assert answer.tags == ["RegistryPackage"] * 3


def test_find_folders(node, history):
    answer = ok(node.ask("FindFolders", **{
        "$XDSFolderPatientId": q(history.patient), "$XDSFolderStatus": ql(APPROVED),
        "$XDSFolderCodeList": ql("Referrals^^Connect-a-thon folderCodeList")}))
    assert answer.ids == [history.folder]
    (folder,) = decoded(answer).folders
    assert folder.last_update_time  # set by the registry


# --- GetAll and the Get queries -------------------------------------------------------------

def test_get_all(node, history):
    answer = ok(node.ask("GetAll", "ObjectRef", **{
        "$patientId": q(history.other_patient), DE + "Status": ql(APPROVED),
        "$XDSSubmissionSetStatus": ql(APPROVED), "$XDSFolderStatus": ql(APPROVED)}))
    assert len(answer.ids) == 3 and history.doc5 in answer.ids  # SubmissionSet, document, HasMember


def test_get_all_too_many(node, history):
    answer = node.ask("GetAll", **{
        "$patientId": q(history.patient), DE + "Status": ql(APPROVED, DEPRECATED),
        "$XDSSubmissionSetStatus": ql(APPROVED), "$XDSFolderStatus": ql(APPROVED)})
    assert answer.status is Status.FAILURE and answer.codes == [ErrorCode.TOO_MANY_RESULTS]
    assert answer.ids == []


def test_get_documents(node, history):
    h = history
    assert ok(node.ask("GetDocuments", **{DE + "UniqueId": ql(h.doc2_uid)})).ids == [h.doc2]
    assert ok(node.ask("GetDocuments", **{DE + "EntryUUID": ql(h.doc1, h.doc3)})).ids == [h.doc1, h.doc3]
    two = {DE + "EntryUUID": ql(h.doc2, h.doc5)}
    assert node.ask("GetDocuments", **two).codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert ok(node.ask("GetDocuments", "ObjectRef", **two)).ids == [h.doc2, h.doc5]


def test_get_folders(node, history):
    assert ok(node.ask("GetFolders", **{"$XDSFolderUniqueId": ql(history.folder_uid)})).ids == [history.folder]
    assert ok(node.ask("GetFolders", **{"$XDSFolderEntryUUID": ql(history.folder)})).ids == [history.folder]


def test_get_associations(node, history):
    answer = ok(node.ask("GetAssociations", **{"$uuid": ql(history.doc1)}))
    types = sorted(a.association_type for a in decoded(answer).associations)
    assert types == sorted([AssociationType.HAS_MEMBER] * 2 + [RPLC])  # SS1 and Folder01 hold it; RPLC


def test_get_documents_and_associations(node, history):
    answer = ok(node.ask("GetDocumentsAndAssociations", **{DE + "EntryUUID": ql(history.doc2)}))
    found = decoded(answer)
    assert [d.id for d in found.document_entries] == [history.doc2]
    assert sorted(a.association_type for a in found.associations) == sorted([AssociationType.HAS_MEMBER, APND])


def test_get_submission_sets(node, history):
    answer = ok(node.ask("GetSubmissionSets", **{"$uuid": ql(history.doc2, history.doc3)}))
    found = decoded(answer)
    assert [s.id for s in found.submission_sets] == [history.ss1, history.ss2]
    assert {(a.source, a.target) for a in found.associations} == {(history.ss1, history.doc2),
                                                                  (history.ss2, history.doc3)}


# --- following associations ---------------------------------------------------------------------

def test_get_submission_set_and_contents(node, history):
    answer = ok(node.ask("GetSubmissionSetAndContents", **{"$XDSSubmissionSetUniqueId": q(history.ss1_uid)}))
    found = decoded(answer)
    assert [s.id for s in found.submission_sets] == [history.ss1]
    assert [d.id for d in found.document_entries] == [history.doc1, history.doc2]
    assert [f.id for f in found.folders] == [history.folder]
    assert len(found.associations) == 5  # SS→Doc01, SS→Doc02, SS→Folder01, Folder01→Doc01, SS→that
    filtered = ok(node.ask("GetSubmissionSetAndContents", "ObjectRef", **{
        "$XDSSubmissionSetEntryUUID": q(history.ss1),
        DE + "ConfidentialityCode": ql("1.3.6.1.4.1.21367.2006.7.101^^Connect-a-thon confidentialityCodes")}))
    assert len(filtered.ids) == 9


def test_get_folder_and_contents(node, history):
    answer = ok(node.ask("GetFolderAndContents", **{"$XDSFolderUniqueId": q(history.folder_uid)}))
    # doc3 replaced doc1, so the registry made it a member of doc1's folder too (ITI TF-3 4.2.2.2.1)
    assert answer.ids[:3] == [history.doc1, history.doc3, history.folder]
    assert answer.tags[3:] == ["Association", "Association"]
    none = ok(node.ask("GetFolderAndContents", **{"$XDSFolderEntryUUID": q(history.folder),
                                                  DE + "FormatCode": ql("nothing^^nowhere")}))
    assert none.ids == [history.folder]


def test_get_folders_for_document(node, history):
    assert ok(node.ask("GetFoldersForDocument", **{DE + "EntryUUID": q(history.doc1)})).ids == [history.folder]
    assert ok(node.ask("GetFoldersForDocument", **{DE + "UniqueId": q(history.doc2_uid)})).ids == []


def test_get_related_documents(node, history):
    h = history
    replaced = ok(node.ask("GetRelatedDocuments", **{DE + "EntryUUID": q(h.doc1), "$AssociationTypes": ql(RPLC)}))
    assert replaced.ids[:2] == [h.doc1, h.doc3] and replaced.tags[2] == "Association"
    appended = ok(node.ask("GetRelatedDocuments", "ObjectRef", **{
        DE + "UniqueId": q(h.doc2_uid), "$AssociationTypes": ql(RPLC, APND)}))
    assert appended.ids[:2] == [h.doc2, h.doc4] and len(appended.ids) == 3


# --- errors -----------------------------------------------------------------------------------

def test_request_errors(node, history):
    element = request("FindDocuments", **{DE + "PatientId": q(history.patient), DE + "Status": ql(APPROVED)})
    element.find(f"{{{RIM}}}AdhocQuery").set("id", "urn:uuid:00000000-0000-0000-0000-000000000000")
    reply = node.client.call(STORED_QUERY, element)
    assert_valid(reply.body, "query")
    assert read_answer(reply.body).codes == [ErrorCode.UNKNOWN_STORED_QUERY]
    missing = node.ask("FindDocuments", **{DE + "PatientId": q(history.patient)})
    assert missing.status is Status.FAILURE and missing.codes == [ErrorCode.STORED_QUERY_MISSING_PARAM]
    both = node.ask("GetDocuments", **{DE + "UniqueId": ql("1.2"), DE + "EntryUUID": ql(history.doc1)})
    assert both.codes == [ErrorCode.STORED_QUERY_PARAM_NUMBER]
    bad = node.ask("FindDocuments", **{DE + "PatientId": q(history.patient), DE + "Status": ql(APPROVED),
                                       DE + "CreationTimeFrom": "2004-01-01"})
    assert bad.codes == [ErrorCode.REGISTRY_ERROR]


def test_home_is_the_configured_community_on_every_object(node, history):
    refs = ok(node.ask("GetDocuments", "ObjectRef", **{DE + "EntryUUID": ql(history.doc2)}))
    assert refs.homes == [HOME]
    leaf = ok(node.ask("GetDocumentsAndAssociations", **{DE + "EntryUUID": ql(history.doc2)}))
    assert set(leaf.homes) == {HOME} and [d.home for d in decoded(leaf).document_entries] == [HOME]
