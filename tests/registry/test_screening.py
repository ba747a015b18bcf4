"""ITI-18 screened by a DocumentAccess (profiles.access; registry.queries.screening): hidden
DocumentEntries leave the answer with every Association pointing at them, a refused query
answers LocalPolicyRestrictionError, the verdict's slots go into rs:ResponseSlotList."""
import pytest
from lxml import etree

from profiles import stored_queries
from profiles.ebrim import decode_registry_object_list
from profiles.errors import ErrorCode, Status
from profiles.model import Slot
from profiles.responses import read_registry_response
from profiles.vocabulary import QUERY, RIM, RS
from tests.access_fake import CONTEXT, FakeAccess
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid

from .support import (  # noqa: F401  (fixtures)
    database_url, fresh_submission, register_ok, registry_engine, service, uuid_of,
)

OTHER_PATIENT = samples.OTHER_PATIENT_ID


def stored_query(name: str, return_type: str = "LeafClass", **slots: str) -> etree._Element:
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnType=return_type, returnComposedObjects="true")
    query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=stored_queries.by_name(name).id)
    for slot_name, value in slots.items():
        slot = etree.SubElement(query, f"{{{RIM}}}Slot", name="$" + slot_name)
        etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    return request


def get_all(patient: str = samples.PATIENT_ID, return_type: str = "LeafClass") -> etree._Element:
    approved = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"
    return stored_query("GetAll", return_type, patientId=f"'{patient}'", XDSDocumentEntryStatus=approved,
                        XDSSubmissionSetStatus=approved, XDSFolderStatus=approved)


@pytest.fixture
def stored(service, registry_engine):
    submission = register_ok(service, fresh_submission())
    return submission, [uuid_of(registry_engine, submission, i) for i in (0, 1)]


def answered(response):
    status, issues = read_registry_response(response)
    found, _ = decode_registry_object_list(response.find(f"{{{RIM}}}RegistryObjectList"))
    return status, issues, found


def test_a_hidden_document_leaves_with_the_associations_pointing_at_it(service, stored):
    submission, (first, second) = stored
    service.document_access = access = FakeAccess(hidden={submission.document_entries[1].unique_id})
    status, issues, found = answered(service.query(get_all(), CONTEXT))
    assert status is Status.SUCCESS and issues == []
    assert [d.id for d in found.document_entries] == [first]
    assert all(second not in (a.source, a.target) for a in found.associations)
    # of five: SS→doc1, SS→folder, folder→doc1 and SS→(folder→doc1) stay; SS→doc2 is gone
    assert len(found.associations) == 4 and found.submission_sets and found.folders
    [(kind, judged, patients)] = access.asked
    assert sorted(judged) == sorted(e.unique_id for e in submission.document_entries)
    assert patients == (samples.PATIENT_ID,)


def test_object_ref_answers_are_screened_too(service, stored):
    submission, (first, second) = stored
    service.document_access = FakeAccess(hidden={submission.document_entries[0].unique_id})
    response = service.query(get_all(return_type="ObjectRef"), CONTEXT)
    refs = {ref.get("id") for ref in response.iterfind(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}ObjectRef")}
    assert second in refs and first not in refs


def test_a_refused_query_answers_local_policy_restriction_and_nothing_else(service, stored):
    service.document_access = FakeAccess(refusal="the query names a patient other than the assertion's")
    status, issues, found = answered(service.query(get_all(), CONTEXT))
    assert status is Status.FAILURE and found.document_entries == () and found.submission_sets == ()
    assert [(i.code, i.context) for i in issues] == [(ErrorCode.LOCAL_POLICY_RESTRICTION,
                                                      "the query names a patient other than the assertion's")]


def test_a_query_finding_nothing_is_still_judged(service, stored):
    service.document_access = access = FakeAccess(refusal="no")
    assert answered(service.query(get_all(OTHER_PATIENT), CONTEXT))[0] is Status.FAILURE
    assert access.asked == [("visible", [], (OTHER_PATIENT,))]


def test_the_verdicts_slots_go_into_the_response_slot_list(service, stored):
    submission, _ = stored
    slot = Slot("urn:no:xdsno:policy:HiddenDocumentCount", ("1",))
    service.document_access = FakeAccess(hidden={submission.document_entries[0].unique_id}, slots=(slot,))
    response = service.query(get_all(), CONTEXT)
    assert response[0].tag == f"{{{RS}}}ResponseSlotList"
    assert response[0].find(f"{{{RIM}}}Slot").get("name") == slot.name
    assert response[0].findtext(f"{{{RIM}}}Slot/{{{RIM}}}ValueList/{{{RIM}}}Value") == "1"
    assert_valid(response, "query")


def test_a_hidden_document_of_another_patient_does_not_make_the_answer_multi_patient(service, registry_engine):
    mine = register_ok(service, fresh_submission())
    theirs = register_ok(service, fresh_submission(
        doc=lambda d: d.with_changes(patient_id=OTHER_PATIENT), doc2=lambda d: d.with_changes(patient_id=OTHER_PATIENT),
        submission_set=lambda s: s.with_changes(patient_id=OTHER_PATIENT),
        folder=lambda f: f.with_changes(patient_id=OTHER_PATIENT)))
    named = [uuid_of(registry_engine, mine), uuid_of(registry_engine, theirs)]
    service.document_access = FakeAccess(hidden={theirs.document_entries[0].unique_id})
    request = stored_query("GetDocuments", XDSDocumentEntryEntryUUID="(" + ",".join(f"'{u}'" for u in named) + ")")
    status, issues, found = answered(service.query(request, CONTEXT))
    assert status is Status.SUCCESS, issues
    assert [d.id for d in found.document_entries] == [named[0]]


def test_no_context_or_no_judging_leaves_the_answer_as_it_was(service, stored):
    service.document_access = access = FakeAccess(hidden={e.unique_id for e in stored[0].document_entries})
    assert len(answered(service.query(get_all()))[2].document_entries) == 2
    access.judging = False
    assert len(answered(service.query(get_all(), CONTEXT))[2].document_entries) == 2
    assert access.asked == []
