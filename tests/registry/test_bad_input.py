"""Bad input to the Document Registry: the real `xdsno serve` over loopback, on SQLite and on
PostgreSQL (XDSNO_TEST_DATABASE_URL). Every answer is a clear XDS error, an empty Success or a
SOAP fault naming the limit; never a crash. After each, the registry's tables hold what they
held before and an ordinary query still finds the stored documents.

- SQL in parameter values is data: the values travel as bound parameters. A patient id no
  document has (however it is spelled) selects nothing: FindDocuments answers Success without
  objects, as it does for any patient the registry holds nothing for (ITI TF-2 3.18.4.1.3;
  the registry does not judge patient ids in queries). A value not coded as ITI TF-2
  3.18.4.1.2.3.5 says (an unbalanced quote) is XDSRegistryError.
- An AdhocQuery/@id no stored query has → XDSUnknownStoredQuery; a required parameter absent →
  XDSStoredQueryMissingParam (ITI TF-3 Table 4.2.4.1-2).
- 10,000 values in one Slot are answered exactly (the store splits id lists into IN lists of
  5,000 and writes long code lists as IN lists); more than 20,000 values in one query →
  XDSRegistryError naming the limit.
- A SOAP message above `max_xml_bytes` (64 MiB by default) → SOAP Sender fault naming the
  limit; a Value above libxml2's text-node limit → Sender fault naming that limit; a 50 MB
  submission under the limit that fails a registry check stores nothing.
"""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import ErrorCode, Status
from profiles.model import LocalizedString, Slot, Submission
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, AvailabilityStatus, DocumentEntryScheme, ObjectType
from registry.queries.request import MAX_VALUES
from registry.store import ObjectKind, find_by_unique_ids, open_engine
from soap.client import SoapClient, SoapReply
from soap.faults import SENDER
from tests.databases import KINDS, fresh_database_url
from tests.profiles.xml_support import assert_valid
from tests.server import running_server

from .queries.support import Answer, q, ql, read_answer, request
from .support import SAMPLE_DOMAIN, fresh_submission, new_oid, row_counts

pytestmark = pytest.mark.integration

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
APPROVED = AvailabilityStatus.APPROVED.value
DE = "$XDSDocumentEntry"
CLASS_CODE = "Consult^^Connect-a-thon classCodes"
DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024
MANY = 10_000
MB = 1_000_000
INJECTED_TITLE = "Robert'); DROP TABLE registry_object; --"


@dataclass
class Node:
    client: SoapClient
    engine: object
    patient: str
    documents: list[str]  # entryUUIDs, in insert order
    unique_id: str  # of the first document

    def call(self, action: str, body: etree._Element) -> SoapReply:
        return self.client.call(action, body)

    def ask(self, query: str, return_type: str = "LeafClass", **params) -> Answer:
        return self.ask_with(request(query, return_type, **params))

    def ask_with(self, body: etree._Element) -> Answer:
        reply = self.call(STORED_QUERY, body)
        assert reply.fault is None, reply.fault
        assert_valid(reply.body, "query")
        return read_answer(reply.body)

    def register(self, submission: Submission | etree._Element) -> tuple[Status, list[str]]:
        body = submission if isinstance(submission, etree._Element) else encode_submit_objects_request(submission)
        reply = self.call(REGISTER, body)
        assert reply.fault is None, reply.fault
        assert_valid(reply.body, "rs")
        status, issues = read_registry_response(reply.body)
        return status, [str(i.code) for i in issues if i.is_error]

    def find_documents(self, **params) -> Answer:
        return self.ask("FindDocuments", **{DE + "PatientId": q(self.patient), DE + "Status": ql(APPROVED),
                                            **params})


def for_patient(submission: Submission, patient: str) -> Submission:
    def move(objects):
        return tuple(o.with_changes(patient_id=patient) for o in objects)
    return submission.with_changes(document_entries=move(submission.document_entries),
                                   submission_sets=move(submission.submission_sets),
                                   folders=move(submission.folders))


@pytest.fixture(scope="module", params=KINDS)
def node(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    with fresh_database_url(request.param, folder if request.param == "sqlite" else None) as url:
        args = ("--profile", "ihe", "--patient-domain", SAMPLE_DOMAIN, "--database-url", url)
        with running_server(folder / "data", *args) as server, \
                SoapClient(server.url("/registry"), timeout=300) as client:
            engine = open_engine(url, pool_size=1)
            try:
                yield _registered(client, engine)
            finally:
                engine.dispose()


def _registered(client: SoapClient, engine) -> Node:
    patient = f"P{uuid.uuid4().hex[:12]}^^^&{SAMPLE_DOMAIN}&ISO"
    submission = for_patient(fresh_submission(
        doc2=lambda d: d.with_changes(name=(LocalizedString(INJECTED_TITLE),))), patient)
    node = Node(client, engine, patient, [], submission.document_entries[0].unique_id)
    assert node.register(submission) == (Status.SUCCESS, [])
    with engine.connect() as conn:
        found = find_by_unique_ids(conn, ObjectKind.DOCUMENT_ENTRY,
                                   [d.unique_id for d in submission.document_entries])
    node.documents = [s.entry_uuid for s in found]
    return node


@pytest.fixture
def intact(node):
    """Asserts after the test that no row changed and an ordinary query still answers."""
    before = row_counts(node.engine)
    yield
    assert row_counts(node.engine) == before
    assert_answers(node)


def assert_answers(node: Node) -> None:
    answer = node.find_documents()
    assert answer.ok and answer.ids == node.documents, answer.codes


def empty_success(answer: Answer) -> None:
    assert answer.status is Status.SUCCESS and answer.codes == [] and answer.ids == []


# --- SQL in parameter values ---------------------------------------------------------------

INJECTED_PATIENT_IDS = [
    "x' OR 1=1 --^^^&1.2&ISO",                       # on the wire: 'x'' OR 1=1 --^^^&1.2&ISO'
    "x'; DROP TABLE registry_object; --^^^&1.2&ISO",
    "x'); DROP TABLE registry_object; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "x' UNION SELECT entry_uuid, xml FROM registry_object --",
    "%",
    "*",
]


@pytest.mark.parametrize("patient_id", INJECTED_PATIENT_IDS)
def test_sql_in_the_patient_id_selects_nothing(node, intact, patient_id):
    answer = node.ask("FindDocuments", **{DE + "PatientId": q(patient_id), DE + "Status": ql(APPROVED)})
    empty_success(answer)


def test_sql_after_the_stored_patient_id_selects_nothing(node, intact):
    for suffix in ("' OR '1'='1", "'; DROP TABLE registry_object; --", "' --"):
        empty_success(node.ask("FindDocuments", **{DE + "PatientId": q(node.patient + suffix),
                                                   DE + "Status": ql(APPROVED)}))


@pytest.mark.parametrize("raw", [
    "'x' OR '1'='1'",                       # a quote ends the value; text follows it
    "'x'; DROP TABLE registry_object; --",
    "x' OR 1=1 --",                         # not quoted at all
    "('a', 'b'); DROP TABLE registry_object; --",
])
def test_a_value_coded_wrongly_is_a_registry_error(node, intact, raw):
    answer = node.ask("FindDocuments", **{DE + "PatientId": raw, DE + "Status": ql(APPROVED)})
    assert answer.status is Status.FAILURE and answer.codes == [ErrorCode.REGISTRY_ERROR]
    assert answer.ids == []


def test_sql_in_other_parameters_selects_nothing(node, intact):
    injected = "x'); DROP TABLE document_entry; --"
    empty_success(node.find_documents(**{DE + "ClassCode": ql(f"{injected}^^{injected}")}))
    empty_success(node.find_documents(**{DE + "AuthorPerson": ql("%' OR '1'='1")}))
    empty_success(node.find_documents(**{DE + "EventCodeList": ql("T-D4909^^SNOMED' OR '1'='1")}))
    empty_success(node.ask("GetDocuments", **{DE + "UniqueId": ql(f"{node.unique_id}' OR '1'='1")}))
    empty_success(node.ask("GetDocuments", **{DE + "EntryUUID": ql(f"{node.documents[0]}' OR 'a'='a")}))
    empty_success(node.ask("GetAssociations", **{"$uuid": ql("x' OR 1=1 --")}))


def test_sql_in_stored_metadata_comes_back_as_text(node, intact):
    answer = node.ask("GetDocuments", **{DE + "EntryUUID": ql(node.documents[1])})
    assert answer.ok
    names = answer.element.findall(f".//{{{RIM}}}ExtrinsicObject/{{{RIM}}}Name/{{{RIM}}}LocalizedString")
    assert [n.get("value") for n in names] == [INJECTED_TITLE]


# --- unknown queries, missing parameters ---------------------------------------------------

@pytest.mark.parametrize("query_id", [
    f"urn:uuid:{uuid.uuid4()}",
    "FindDocuments",                                   # a name is not an id
    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d'; DROP TABLE registry_object; --",
    "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f",   # FindDocumentsForMultiplePatients: ITI-51
    "",
])
def test_unknown_stored_query(node, intact, query_id):
    body = request("FindDocuments", **{DE + "PatientId": q(node.patient), DE + "Status": ql(APPROVED)})
    body.find(f"{{{RIM}}}AdhocQuery").set("id", query_id)
    answer = node.ask_with(body)
    assert answer.status is Status.FAILURE and answer.codes == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert answer.ids == []


@pytest.mark.parametrize("query, params, missing", [
    ("FindDocuments", {DE + "Status": ql(APPROVED)}, DE + "PatientId"),
    ("FindDocuments", {DE + "PatientId": "PATIENT"}, DE + "Status"),
    ("FindDocuments", {}, DE + "PatientId"),
    ("GetDocuments", {}, DE + "EntryUUID"),
    ("FindSubmissionSets", {"$XDSSubmissionSetStatus": ql(APPROVED)}, "$XDSSubmissionSetPatientId"),
    ("GetAll", {"$XDSDocumentEntryStatus": ql(APPROVED), "$XDSSubmissionSetStatus": ql(APPROVED),
                "$XDSFolderStatus": ql(APPROVED)}, "$patientId"),
])
def test_missing_required_parameter(node, intact, query, params, missing):
    params = {name: q(node.patient) if value == "PATIENT" else value for name, value in params.items()}
    answer = node.ask(query, **params)
    assert answer.status is Status.FAILURE and ErrorCode.STORED_QUERY_MISSING_PARAM in answer.codes
    assert set(answer.codes) == {ErrorCode.STORED_QUERY_MISSING_PARAM}
    locations = [e.get("location") for e in answer.element.iter("{*}RegistryError")]
    assert missing in locations


# --- many values in one Slot -----------------------------------------------------------------

def random_uuids(count: int) -> list[str]:
    return [f"urn:uuid:{uuid.uuid4()}" for _ in range(count)]


@pytest.mark.parametrize("return_type", ["LeafClass", "ObjectRef"])
def test_ten_thousand_entry_uuids(node, intact, return_type):
    first, second = node.documents
    uuids = [second, *random_uuids(MANY - 2), first]  # the two fall in different IN lists of 5,000
    answer = node.ask("GetDocuments", return_type, **{DE + "EntryUUID": ql(*uuids)})
    assert answer.ok and answer.ids == [first, second]


def test_ten_thousand_unique_ids(node, intact):
    unique_ids = [new_oid() for _ in range(MANY - 1)] + [node.unique_id]
    answer = node.ask("GetDocuments", **{DE + "UniqueId": ql(*unique_ids)})
    assert answer.ok and answer.ids == node.documents[:1]


def test_ten_thousand_class_codes(node, intact):
    codes = [f"C{i}^^Connect-a-thon classCodes" for i in range(MANY - 1)]
    assert node.find_documents(**{DE + "ClassCode": ql(*codes, CLASS_CODE)}).ids == node.documents
    empty_success(node.find_documents(**{DE + "ClassCode": ql(*codes)}))
    # one coding scheme per code: code and scheme must still match together
    schemes = [f"Consult^^scheme {i}" for i in range(MANY - 1)]
    assert node.find_documents(**{DE + "ClassCode": ql(*schemes, CLASS_CODE)}).ids == node.documents
    empty_success(node.find_documents(**{DE + "ClassCode": ql(*schemes)}))


def test_ten_thousand_event_codes_and_author_patterns(node, intact):
    events = [f"E{i}^^SNOMED" for i in range(MANY - 1)]
    found = node.find_documents(**{DE + "EventCodeList": ql(*events, "T-D4909^^SNOMED")})
    assert found.ok and found.ids == node.documents
    authors = [f"%nobody {i}%" for i in range(MANY - 1)]
    found = node.find_documents(**{DE + "AuthorPerson": ql(*authors, "%Smitty%")})
    assert found.ok and found.ids == node.documents


def test_ten_thousand_values_in_separate_value_elements(node, intact):
    body = request("GetDocuments", **{DE + "EntryUUID": tuple(q(u) for u in [
        *random_uuids(MANY - 1), node.documents[0]])})
    answer = node.ask_with(body)
    assert answer.ok and answer.ids == node.documents[:1]


def test_more_values_than_the_registry_answers(node, intact):
    answer = node.ask("GetDocuments", **{DE + "EntryUUID": ql(*random_uuids(MAX_VALUES + 1))})
    assert answer.status is Status.FAILURE and answer.codes == [ErrorCode.REGISTRY_ERROR]
    (error,) = answer.element.iter("{*}RegistryError")
    assert f"at most {MAX_VALUES}" in error.get("codeContext")


# --- large submissions -----------------------------------------------------------------------

def huge_slot(total_bytes: int, value_bytes: int = 1000) -> Slot:
    return Slot("urn:example:huge", tuple(f"{i:09d}".ljust(value_bytes, "x")
                                          for i in range(total_bytes // value_bytes)))


def size_of(body: etree._Element) -> int:
    return len(etree.tostring(body))


def assert_sender_fault(reply: SoapReply, *words: str) -> None:
    assert reply.status_code == 400 and reply.fault is not None
    assert reply.fault.code == SENDER
    for word in words:
        assert word in reply.fault.reason, reply.fault.reason


def test_submission_above_max_xml_bytes_is_a_sender_fault(node, intact):
    submission = fresh_submission(doc=lambda d: d.with_changes(
        patient_id=node.patient, extra_slots=(huge_slot(DEFAULT_MAX_XML_BYTES + MB),)),
        doc2=lambda d: d.with_changes(patient_id=node.patient),
        submission_set=lambda s: s.with_changes(patient_id=node.patient),
        folder=lambda f: f.with_changes(patient_id=node.patient))
    body = encode_submit_objects_request(submission)
    assert size_of(body) > DEFAULT_MAX_XML_BYTES
    assert_sender_fault(node.call(REGISTER, body), f"exceeds {DEFAULT_MAX_XML_BYTES} bytes")


def test_a_value_above_the_parser_limit_is_a_sender_fault(node, intact):
    submission = for_patient(fresh_submission(doc=lambda d: d.with_changes(
        extra_slots=(huge_slot(12 * MB, 12 * MB),))), node.patient)
    assert_sender_fault(node.call(REGISTER, encode_submit_objects_request(submission)),
                        "exceeds a parser limit", "10,000,000 bytes")


def test_fifty_megabyte_submission_failing_a_check_stores_nothing(node, intact):
    # one DocumentEntry carrying a 50 MB extension slot; the other reuses a registered
    # uniqueId with another hash
    submission = for_patient(fresh_submission(
        doc=lambda d: d.with_changes(extra_slots=(huge_slot(50 * MB),)),
        doc2=lambda d: d.with_changes(unique_id=node.unique_id, hash="0" * 40)), node.patient)
    body = encode_submit_objects_request(submission)
    assert 50 * MB < size_of(body) < DEFAULT_MAX_XML_BYTES
    assert node.register(body) == (Status.FAILURE, [ErrorCode.NON_IDENTICAL_HASH])


def many_entries(node: Node, count: int) -> etree._Element:
    """A SubmitObjectsRequest of `count` DocumentEntries (copies of one, each with its own ids
    and uniqueId), the last one reusing the registered uniqueId of `node` with another hash."""
    template = for_patient(fresh_submission(then=lambda s: s.with_changes(
        document_entries=s.document_entries[:1], folders=(), associations=s.associations[:1])), node.patient)
    body = encode_submit_objects_request(template)
    object_list = body.find(f"{{{RIM}}}RegistryObjectList")
    entry = object_list.find(f"{{{RIM}}}ExtrinsicObject")
    member = object_list.find(f"{{{RIM}}}Association")
    object_list.remove(entry)
    object_list.remove(member)
    for i in range(count):
        last = i == count - 1
        entry_id = f"Document{i}"
        copied = copy.deepcopy(entry)
        copied.set("id", entry_id)
        for child in copied:
            if child.get("id"):
                child.set("id", f"urn:uuid:{uuid.uuid4()}")
            for reference in ("classifiedObject", "registryObject"):
                if child.get(reference):
                    child.set(reference, entry_id)
            if child.get("identificationScheme") == DocumentEntryScheme.UNIQUE_ID:
                child.set("value", node.unique_id if last else new_oid())
            if last and child.get("name") == "hash":
                child.find(f"{{{RIM}}}ValueList/{{{RIM}}}Value").text = "0" * 40
        object_list.append(copied)
        link = copy.deepcopy(member)
        link.set("id", f"SsDoc{i}")
        link.set("targetObject", entry_id)
        object_list.append(link)
    return body


def test_fifty_megabytes_of_document_entries_failing_a_check_stores_nothing(node, intact):
    body = many_entries(node, 7_000)
    assert 45 * MB < size_of(body) < DEFAULT_MAX_XML_BYTES
    assert len(body.findall(f".//{{{RIM}}}ExtrinsicObject[@objectType='{ObjectType.STABLE_DOCUMENT.value}']")) == 7_000
    assert node.register(body) == (Status.FAILURE, [ErrorCode.NON_IDENTICAL_HASH])
