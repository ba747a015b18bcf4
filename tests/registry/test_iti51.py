"""registry.service.multi_patient_query: ITI-51 Multi-Patient Stored Query (ITI TF-2 3.51) on
the registry service, on SQLite and PostgreSQL — what differs from ITI-18: only the two
multi-patient queries are accepted (and ITI-18 does not accept them), an answer may hold
several patients, and the access policy (xdsno.policy, the deployment's default file) still
decides what a subject sees.

Two patients are registered, each with the sample submission (two DocumentEntries of class
Consult, a Folder of code Referrals).
"""
import dataclasses

import pytest

from profiles.errors import ErrorCode, Status
from profiles.stored_queries import by_name
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid
from tests.xdsno.test_policy import _Assertion, doctor
from xdsno.policy import PolicyDecisionPoint, PolicyEnforcement, load_policy

from .queries.support import q, ql, read_answer, request
from .support import (  # noqa: F401  (fixtures)
    database_url, fresh_submission, register_ok, registry_engine, service,
)

PATIENT, OTHER = samples.PATIENT_ID, samples.OTHER_PATIENT_ID
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
CONSULT = "Consult^^Connect-a-thon classCodes"
REFERRALS = "Referrals^^Connect-a-thon folderCodeList"
DE, FOL = "$XDSDocumentEntry", "$XDSFolder"


def of_patient(patient: str):
    """The sample submission with every object of `patient`."""
    def move(submission):
        def to(objects):
            return tuple(o.with_changes(patient_id=patient) for o in objects)
        return submission.with_changes(document_entries=to(submission.document_entries),
                                       submission_sets=to(submission.submission_sets), folders=to(submission.folders))
    return fresh_submission(then=move)


@pytest.fixture
def two_patients(service):
    return {patient: register_ok(service, of_patient(patient)) for patient in (PATIENT, OTHER)}


def documents(*patients: str, return_type: str = "LeafClass"):
    params = {DE + "ClassCode": ql(CONSULT), DE + "Status": ql(APPROVED)}
    if patients:
        params[DE + "PatientId"] = ql(*patients)
    return request("FindDocumentsForMultiplePatients", return_type, **params)


def folders(*patients: str):
    params = {FOL + "CodeList": ql(REFERRALS), FOL + "Status": ql(APPROVED)}
    if patients:
        params[FOL + "PatientId"] = ql(*patients)
    return request("FindFoldersForMultiplePatients", "LeafClass", **params)


def ask(service, body, context=None):
    assert_valid(body, "query")
    response = service.multi_patient_query(body, context)
    assert_valid(response, "query")
    return read_answer(response)


def patients_of(answer) -> set[str]:
    return {e.get("value") for e in answer.element.iter("{*}ExternalIdentifier")
            if e.get("identificationScheme") in ("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
                                                 "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a")}


# --- the multi-patient queries, and only they -------------------------------------------------

def test_a_multi_patient_answer_holds_every_patient_found(service, two_patients):
    answer = ask(service, documents())
    assert answer.ok and len(answer.ids) == 4 and patients_of(answer) == {PATIENT, OTHER}
    named = ask(service, documents(PATIENT, OTHER))
    assert named.ok and sorted(named.ids) == sorted(answer.ids)
    assert patients_of(ask(service, documents(OTHER))) == {OTHER}


def test_folders_of_several_patients(service, two_patients):
    answer = ask(service, folders())
    assert answer.ok and answer.tags == ["RegistryPackage"] * 2 and patients_of(answer) == {PATIENT, OTHER}


def test_iti18_queries_are_unknown_on_iti51_and_iti51_queries_on_iti18(service, two_patients):
    single = request("FindDocuments", **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    assert read_answer(service.query(single)).ok
    assert ask(service, single).codes == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert read_answer(service.query(documents())).codes == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert read_answer(service.query(documents())).status is Status.FAILURE


def test_a_multi_patient_query_needs_a_narrowing_code(service, two_patients):
    body = request("FindDocumentsForMultiplePatients", "ObjectRef", **{DE + "Status": ql(APPROVED)})
    answer = ask(service, body)
    assert (answer.status, answer.codes) == (Status.FAILURE, [ErrorCode.STORED_QUERY_MISSING_PARAM])


def test_the_query_ids_are_those_of_iti_tf_2_3_51():
    assert by_name("FindDocumentsForMultiplePatients").id == "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f"
    assert by_name("FindFoldersForMultiplePatients").id == "urn:uuid:50d3f5ac-39a2-11de-a1ca-b366239e58df"


# --- the access policy (patient.required) -------------------------------------------------------

def enforcing(service, **policy_changes):
    policy = dataclasses.replace(load_policy(), **policy_changes)
    service.document_access = PolicyEnforcement(PolicyDecisionPoint(policy), channel="registry")


def as_doctor(**changes) -> dict:
    return {"xdsno.xua": _Assertion(doctor(patient_id=PATIENT, **changes))}


def test_a_doctor_confined_to_one_patient_sees_only_that_patients_documents(service, two_patients):
    enforcing(service)
    answer = ask(service, documents(), as_doctor())
    assert answer.ok and len(answer.ids) == 2 and patients_of(answer) == {PATIENT}
    object_refs = ask(service, documents(return_type="ObjectRef"), as_doctor())
    assert sorted(object_refs.ids) == sorted(answer.ids)


def test_a_query_naming_another_patient_than_the_assertions_is_refused(service, two_patients):
    enforcing(service)
    answer = ask(service, documents(PATIENT, OTHER), as_doctor())
    assert (answer.status, answer.codes, answer.ids) == (Status.FAILURE, [ErrorCode.LOCAL_POLICY_RESTRICTION], [])
    assert ask(service, documents(PATIENT), as_doctor()).ok


def test_folders_of_another_patient_refuse_the_query_of_a_confined_doctor(service, two_patients):
    enforcing(service)
    answer = ask(service, folders(), as_doctor())
    assert (answer.status, answer.codes, answer.ids) == (Status.FAILURE, [ErrorCode.LOCAL_POLICY_RESTRICTION], [])
    own = ask(service, folders(PATIENT), as_doctor())
    assert own.ok and patients_of(own) == {PATIENT} and len(own.ids) == 1


def test_without_the_patient_rule_an_assertion_naming_no_patient_sees_every_patient(service, two_patients):
    enforcing(service, patient_required=False)
    context = {"xdsno.xua": _Assertion(doctor(patient_id=None))}
    assert patients_of(ask(service, documents(), context)) == {PATIENT, OTHER}
    assert patients_of(ask(service, folders(), context)) == {PATIENT, OTHER}


def test_with_the_patient_rule_an_assertion_naming_no_patient_is_refused(service, two_patients):
    enforcing(service)
    answer = ask(service, documents(), {"xdsno.xua": _Assertion(doctor(patient_id=None))})
    assert (answer.status, answer.codes) == (Status.FAILURE, [ErrorCode.LOCAL_POLICY_RESTRICTION])
