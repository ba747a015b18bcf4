"""FindDocuments, FindDocumentsByReferenceId, FindSubmissionSets, FindFolders (ITI TF-2
3.18.4.1.2.3.7.1-.3, .14) and the ITI-51 multi-patient variants: every parameter."""
from __future__ import annotations

import pytest

from profiles.errors import ErrorCode
from profiles.model import Author
from tests.registry.store.builders import (
    OTHER_PATIENT, PATIENT, code, document, folder, submission_set,
)

from .support import APPROVED, DEPRECATED, ON_DEMAND, STABLE, SUBMITTED, Slots, coded, q, ql, same_xml

DE = "$XDSDocumentEntry"
SCHEME = "2.16.578.1.12.4.1.1.9602"


def find(reg, return_type="LeafClass", **params):
    params = {DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED), **params}
    return reg.ask("FindDocuments", return_type, **params)


def found(reg, **params) -> list[str]:
    answer = find(reg, **params)
    assert answer.ok, answer.codes
    return answer.ids


def c(value: str, scheme: str = SCHEME) -> str:
    return f"{value}^^{scheme}"


# --- FindDocuments ------------------------------------------------------------------------

def test_patient_and_status(reg):
    a, b = document(), document(status=DEPRECATED)
    other = document(patient_id=OTHER_PATIENT)
    reg.submit(a, b)
    reg.submit(other)
    assert found(reg) == [a.id]
    assert found(reg, **{DE + "Status": ql(APPROVED, DEPRECATED)}) == [a.id, b.id]
    assert found(reg, **{DE + "Status": ql(SUBMITTED)}) == []
    assert found(reg, **{DE + "PatientId": q(OTHER_PATIENT)}) == [other.id]
    assert found(reg, **{DE + "PatientId": q("unknown^^^&1.2&ISO")}) == []


def test_leaf_class_answers_the_stored_canonical_xml(reg):
    a = document()
    reg.submit(a)
    answer = find(reg)
    (obj,) = answer.element.find("{*}RegistryObjectList")
    assert same_xml(obj, reg.stored[a.id])
    assert answer.tags == ["ExtrinsicObject"] and answer.homes == [None]


@pytest.mark.parametrize("param, field", [
    ("ClassCode", "class_code"), ("TypeCode", "type_code"), ("PracticeSettingCode", "practice_setting_code"),
    ("HealthcareFacilityTypeCode", "healthcare_facility_type_code"), ("FormatCode", "format_code"),
])
def test_single_code_parameters_or_within(reg, param, field):
    x, y, z = document(**{field: code("X")}), document(**{field: code("Y")}), document(**{field: code("Z")})
    reg.submit(x, y, z)
    assert found(reg, **{DE + param: ql(c("Y"))}) == [y.id]
    assert found(reg, **{DE + param: ql(c("X"), c("Z"))}) == [x.id, z.id]
    assert found(reg, **{DE + param: ql(c("X", "other-scheme"))}) == []


def test_code_parameters_are_anded_with_each_other(reg):
    a = document(class_code=code("A"), type_code=code("T"))
    b = document(class_code=code("A"), type_code=code("U"))
    reg.submit(a, b)
    assert found(reg, **{DE + "ClassCode": ql(c("A")), DE + "TypeCode": ql(c("T"))}) == [a.id]


@pytest.mark.parametrize("param, field", [
    ("EventCodeList", "event_codes"), ("ConfidentialityCode", "confidentiality_codes"),
])
def test_multi_valued_codes_and_across_slots_or_within(reg, param, field):
    ab = document(**{field: (code("a"), code("b"))})
    a = document(**{field: (code("a"),)})
    cc = document(**{field: (code("c"),)})
    reg.submit(ab, a, cc)
    assert found(reg, **{DE + param: ql(c("a"))}) == [ab.id, a.id]
    assert found(reg, **{DE + param: ql(c("a"), c("c"))}) == [ab.id, a.id, cc.id]
    assert found(reg, **{DE + param: Slots(ql(c("a")), ql(c("b")))}) == [ab.id]
    assert found(reg, **{DE + param: Slots(ql(c("a")), ql(c("b"), c("c")))}) == [ab.id]
    assert found(reg, **{DE + param: Slots(ql(c("b")), ql(c("c")))}) == []


@pytest.mark.parametrize("param, field", [
    ("CreationTime", "creation_time"), ("ServiceStartTime", "service_start_time"),
    ("ServiceStopTime", "service_stop_time"),
])
def test_time_ranges_from_inclusive_to_exclusive(reg, param, field):
    early, late = document(**{field: "20040101"}), document(**{field: "20041231235959"})
    missing = document(**{field: None})
    reg.submit(early, late, missing)
    assert found(reg, **{DE + param + "From": "20040101"}) == [early.id, late.id]
    assert found(reg, **{DE + param + "From": "200401010000"}) == [early.id, late.id]
    assert found(reg, **{DE + param + "From": "20040102"}) == [late.id]
    assert found(reg, **{DE + param + "To": "20040101"}) == []
    assert found(reg, **{DE + param + "To": "2005"}) == [early.id, late.id]
    assert found(reg, **{DE + param + "From": "2004", DE + param + "To": "20041231"}) == [early.id]
    assert found(reg, **{DE + param + "From": q("2004"), DE + param + "To": q("2005")}) == [early.id, late.id]


def test_author_person_wildcards(reg):
    smith = document(authors=(Author(person="^Smith^John"),))
    smythe = document(authors=(Author(person="^Smythe^Jane"), Author(person="^Berg^Ola")))
    reg.submit(smith, smythe)
    assert found(reg, **{DE + "AuthorPerson": ql("^Smith^John")}) == [smith.id]
    assert found(reg, **{DE + "AuthorPerson": ql("%^Sm_th^%")}) == [smith.id]
    assert found(reg, **{DE + "AuthorPerson": ql("%sm%")}) == [smith.id, smythe.id]
    assert found(reg, **{DE + "AuthorPerson": ql("%Berg%", "%Smith%")}) == [smith.id, smythe.id]
    assert found(reg, **{DE + "AuthorPerson": ql("Smith")}) == []


def test_document_entry_type_defaults_to_stable(reg):
    stable, on_demand = document(), document(object_type=ON_DEMAND, hash=None, size=None)
    reg.submit(stable, on_demand)
    assert found(reg) == [stable.id]
    assert found(reg, **{DE + "Type": ql(ON_DEMAND)}) == [on_demand.id]
    assert found(reg, **{DE + "Type": ql(STABLE, ON_DEMAND)}) == [stable.id, on_demand.id]


def test_object_refs(reg):
    a, b = document(), document()
    reg.submit(a, b)
    answer = find(reg, "ObjectRef")
    assert answer.ok and answer.tags == ["ObjectRef", "ObjectRef"] and answer.ids == [a.id, b.id]


def test_too_many_results(reg):
    docs = [document() for _ in range(4)]
    reg.submit(*docs)
    answer = reg.ask("FindDocuments", options={"result_limit": 3},
                     **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    assert answer.codes == [ErrorCode.TOO_MANY_RESULTS] and answer.ids == []
    assert answer.status.name == "FAILURE"
    exact = reg.ask("FindDocuments", "ObjectRef", options={"result_limit": 4},
                    **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    assert exact.ok and len(exact.ids) == 4


def test_unknown_parameter_is_ignored_with_a_warning(reg):
    a = document()
    reg.submit(a)
    answer = find(reg, **{"$XDSDocumentEntryTitle": q("nothing like it")})
    assert answer.status.name == "SUCCESS" and answer.ids == [a.id]
    assert answer.codes == [ErrorCode.REGISTRY_ERROR] and answer.severities == ["WARNING"]


# --- FindDocumentsByReferenceId -------------------------------------------------------------

def test_find_documents_by_reference_id(reg):
    r1, r2 = "order-1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order", "acc-7^^^&1.2.4&ISO^urn:ihe:iti:xds:2013:accession"
    one, both = document(reference_ids=(r1,)), document(reference_ids=(r1, r2))
    none = document()
    reg.submit(one, both, none)

    def by_ref(value) -> list[str]:
        answer = reg.ask("FindDocumentsByReferenceId", **{
            DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED), DE + "ReferenceIdList": value})
        assert answer.ok, answer.codes
        return answer.ids

    assert by_ref(ql(r1)) == [one.id, both.id]
    assert by_ref(ql(r2)) == [both.id]
    assert by_ref(ql("order-1")) == []
    assert by_ref(Slots(ql(r1), ql(r2))) == [both.id]
    assert by_ref(ql("x", r2)) == [both.id]
    missing = reg.ask("FindDocumentsByReferenceId", **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    assert missing.codes == [ErrorCode.STORED_QUERY_MISSING_PARAM]


def test_find_documents_by_reference_id_takes_the_find_documents_filters(reg):
    ref = "r^^^&1.2&ISO"
    a, b = document(reference_ids=(ref,), class_code=code("A")), document(reference_ids=(ref,), class_code=code("B"))
    reg.submit(a, b)
    answer = reg.ask("FindDocumentsByReferenceId", **{
        DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED), DE + "ReferenceIdList": ql(ref),
        DE + "ClassCode": ql(c("B"))})
    assert answer.ids == [b.id]


# --- FindSubmissionSets ----------------------------------------------------------------------

SS = "$XDSSubmissionSet"


def find_sets(reg, **params) -> list[str]:
    answer = reg.ask("FindSubmissionSets", **{SS + "PatientId": q(PATIENT), SS + "Status": ql(APPROVED), **params})
    assert answer.ok, answer.codes
    return answer.ids


def test_find_submission_sets(reg):
    first = submission_set(source_id="1.2.3", submission_time="20040101120000",
                           content_type_code=code("ct1"), authors=(Author(person="^Berg^Ola"),))
    second = submission_set(source_id="1.2.4", submission_time="20050101120000",
                            content_type_code=code("ct2"), authors=(Author(person="^Dahl^Kari"),))
    other = submission_set(patient_id=OTHER_PATIENT)
    deprecated = submission_set(status=DEPRECATED)
    for ss in (first, second, other, deprecated):
        reg.submit(ss=ss)
    assert find_sets(reg) == [first.id, second.id]
    assert find_sets(reg, **{SS + "Status": ql(APPROVED, DEPRECATED)}) == [first.id, second.id, deprecated.id]
    assert find_sets(reg, **{SS + "SourceId": ql("1.2.4")}) == [second.id]
    assert find_sets(reg, **{SS + "SourceId": ql("1.2.3", "1.2.4")}) == [first.id, second.id]
    assert find_sets(reg, **{SS + "SubmissionTimeFrom": "2005"}) == [second.id]
    assert find_sets(reg, **{SS + "SubmissionTimeTo": "2005"}) == [first.id]
    assert find_sets(reg, **{SS + "SubmissionTimeFrom": "20040101120000",
                             SS + "SubmissionTimeTo": "20050101120000"}) == [first.id]
    assert find_sets(reg, **{SS + "AuthorPerson": q("%Dahl%")}) == [second.id]
    assert find_sets(reg, **{SS + "ContentType": ql(c("ct1"))}) == [first.id]
    assert find_sets(reg, **{SS + "ContentType": ql(c("ct1"), c("ct2"))}) == [first.id, second.id]
    assert find_sets(reg, **{SS + "PatientId": q(OTHER_PATIENT)}) == [other.id]


# --- FindFolders -------------------------------------------------------------------------------

FOL = "$XDSFolder"


def find_folders(reg, **params) -> list[str]:
    answer = reg.ask("FindFolders", **{FOL + "PatientId": q(PATIENT), FOL + "Status": ql(APPROVED), **params})
    assert answer.ok, answer.codes
    return answer.ids


def test_find_folders(reg):
    ab = folder(codes=(code("a"), code("b")), last_update_time="20040101000000")
    a = folder(codes=(code("a"),), last_update_time="20050101000000")
    other = folder(patient_id=OTHER_PATIENT)
    deprecated = folder(status=DEPRECATED)
    reg.submit(ab, a)
    reg.submit(other)
    reg.submit(deprecated)
    assert find_folders(reg) == [ab.id, a.id]
    assert find_folders(reg, **{FOL + "Status": ql(DEPRECATED)}) == [deprecated.id]
    assert find_folders(reg, **{FOL + "LastUpdateTimeFrom": "2005"}) == [a.id]
    assert find_folders(reg, **{FOL + "LastUpdateTimeTo": "2005"}) == [ab.id]
    assert find_folders(reg, **{FOL + "CodeList": ql(c("a"))}) == [ab.id, a.id]
    assert find_folders(reg, **{FOL + "CodeList": Slots(ql(c("a")), ql(c("b")))}) == [ab.id]
    assert find_folders(reg, **{FOL + "CodeList": ql(coded(code("b")), c("zz"))}) == [ab.id]
    assert find_folders(reg, **{FOL + "PatientId": q(OTHER_PATIENT)}) == [other.id]


# --- ITI-51 ------------------------------------------------------------------------------------

def test_find_documents_for_multiple_patients(reg):
    mine, theirs = document(class_code=code("A")), document(patient_id=OTHER_PATIENT, class_code=code("A"))
    reg.submit(mine)
    reg.submit(theirs)
    params = {DE + "Status": ql(APPROVED), DE + "ClassCode": ql(c("A"))}
    iti51 = {"transaction": "ITI-51"}
    both = reg.ask("FindDocumentsForMultiplePatients", options=iti51, **params)
    assert both.ok and both.ids == [mine.id, theirs.id]  # several patients: LeafClass allowed in ITI-51
    one = reg.ask("FindDocumentsForMultiplePatients", options=iti51, **params, **{DE + "PatientId": ql(OTHER_PATIENT)})
    assert one.ids == [theirs.id]
    nothing = reg.ask("FindDocumentsForMultiplePatients", options=iti51, **{DE + "Status": ql(APPROVED)})
    assert nothing.codes == [ErrorCode.STORED_QUERY_MISSING_PARAM]


def test_find_folders_for_multiple_patients(reg):
    mine, theirs = folder(codes=(code("f"),)), folder(patient_id=OTHER_PATIENT, codes=(code("f"),))
    reg.submit(mine)
    reg.submit(theirs)
    answer = reg.ask("FindFoldersForMultiplePatients", "ObjectRef", options={"transaction": "ITI-51"},
                     **{FOL + "Status": ql(APPROVED), FOL + "CodeList": ql(c("f"))})
    assert answer.ok and answer.ids == [mine.id, theirs.id]
