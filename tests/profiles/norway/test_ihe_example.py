"""The plain IHE example submission (../shared/ihe/examples/XDS.b/RegisterDocumentSet-bRequest.xml)
under NORWAY_PROFILE: rejected with messages naming exactly the fields to change and what to
put there, accepted once those fields carry Norwegian values (changed in the model after
decoding). Skipped when the shared examples are absent.
"""
from __future__ import annotations

import re

import pytest
from lxml import etree

from profiles.ebrim import decode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Severity
from profiles.ihe import IHE_PROFILE
from profiles.norway.profile import NORWAY_PROFILE
from profiles.rules import Transaction, ValidationContext
from tests.profiles.norway import norway_samples as ns
from tests.profiles.xml_support import IHE_EXAMPLES, require

EXAMPLE = IHE_EXAMPLES / "XDS.b" / "RegisterDocumentSet-bRequest.xml"
REGISTER = ValidationContext(Transaction.REGISTER)

#: (object, field) the Norwegian rules name in the example
NORWEGIAN_FIELDS = {
    ("Document01", "classCode"), ("Document01", "typeCode"), ("Document01", "confidentialityCode"),
    ("Document01", "healthcareFacilityTypeCode"), ("Document01", "practiceSettingCode"),
    ("Document01", "formatCode"), ("Document01", "patientId"), ("Document01", "sourcePatientId"),
    ("Document01", "authorInstitution"), ("Document01", "authorPerson"),
    ("SubmissionSet01", "patientId"), ("SubmissionSet01", "authorInstitution"),
    ("SubmissionSet01", "authorPerson"),
}
#: what IHE itself finds wrong with the example as an ITI-42 request (a repository adds the first three)
IHE_FIELDS = {("Document01", "hash"), ("Document01", "size"), ("Document01", "repositoryUniqueId"),
              ("SubmissionSet01", "sourceId")}

_FIELD = re.compile(r"^\w+ (?P<object>\S+): (?:author \d+ )?(?P<field>\w+)")


def field_named(issue: Issue) -> tuple[str, str]:
    """(object id, attribute) a codeContext starts with: `DocumentEntry Document01: classCode ...`."""
    match = _FIELD.match(issue.context)
    assert match, issue.context
    return match["object"], match["field"]


def decoded_example():
    submission, issues = decode_submit_objects_request(etree.parse(str(require(EXAMPLE))).getroot())
    assert issues == []
    return submission


def fixed_for_iti42(submission):
    """What IHE asks of an ITI-42 request (the repository's hash/size/repositoryUniqueId, an OID sourceId)."""
    entries = tuple(e.with_changes(hash="4cf4f82d78b5e2aac35c31bca8cb79fe6bd6a41e", size="36",
                                   repository_unique_id="2.16.578.1.12.4.1.7.1.999.1")
                    for e in submission.document_entries)
    sets = tuple(s.with_changes(source_id="2.16.578.1.12.4.1.7.1.999.2") for s in submission.submission_sets)
    return submission.with_changes(document_entries=entries, submission_sets=sets)


def test_example_is_rejected_naming_each_field_to_change():
    issues = NORWAY_PROFILE.validate(decoded_example(), REGISTER)
    ihe_only = IHE_PROFILE.validate(decoded_example(), REGISTER)
    norwegian = [i for i in issues if i not in ihe_only]
    assert {field_named(i) for i in norwegian} == NORWEGIAN_FIELDS
    assert {field_named(i) for i in ihe_only} == IHE_FIELDS
    assert all(i.is_error for i in issues)


def test_each_norwegian_message_names_the_value_and_what_to_use():
    example = decoded_example()
    issues = [i for i in NORWAY_PROFILE.validate(example, REGISTER) if i not in IHE_PROFILE.validate(example, REGISTER)]
    for issue in issues:
        assert "'" in issue.context, issue.context  # the value found, quoted
        assert "use " in issue.context or "e.g. " in issue.context, issue.context
    by_field = {field_named(i): i for i in issues}
    assert by_field[("Document01", "classCode")].context == (
        "DocumentEntry Document01: classCode 'History and Physical' (codingScheme 'Connect-a-thon classCodes') "
        "is not in Volven 9602 (2.16.578.1.12.4.1.1.9602); use a class code such as A00-1 Epikriser og "
        "sammenfatninger")
    assert by_field[("SubmissionSet01", "patientId")].code is ErrorCode.UNKNOWN_PATIENT_ID
    assert "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO" in by_field[("SubmissionSet01", "patientId")].context


def test_example_is_accepted_after_the_named_fields_are_changed():
    changed = ns.with_norwegian_values(fixed_for_iti42(decoded_example()))
    assert NORWAY_PROFILE.validate(changed, REGISTER) == []


def test_norwegian_values_alone_leave_only_the_ihe_issues():
    changed = ns.with_norwegian_values(decoded_example())
    assert {field_named(i) for i in NORWAY_PROFILE.validate(changed, REGISTER)} == IHE_FIELDS


def test_lenient_norway_warns_on_the_norwegian_fields_only():
    issues = NORWAY_PROFILE.validate(fixed_for_iti42(decoded_example()), REGISTER.with_changes(strict=False))
    assert {field_named(i) for i in issues} == NORWEGIAN_FIELDS
    assert {i.severity for i in issues} == {Severity.WARNING}


@pytest.mark.parametrize("field", sorted({f for _, f in NORWEGIAN_FIELDS}))
def test_every_named_field_is_needed(field):
    """Leaving any one field IHE-valued keeps the example rejected for that field."""
    fixed = fixed_for_iti42(decoded_example())
    changed = ns.with_norwegian_values(fixed)
    original_entry, original_set = fixed.document_entries[0], fixed.submission_sets[0]
    attribute = {"classCode": "class_code", "typeCode": "type_code", "formatCode": "format_code",
                 "confidentialityCode": "confidentiality_codes", "practiceSettingCode": "practice_setting_code",
                 "healthcareFacilityTypeCode": "healthcare_facility_type_code",
                 "sourcePatientId": "source_patient_id"}.get(field)
    if attribute:
        entry = changed.document_entries[0].with_changes(**{attribute: getattr(original_entry, attribute)})
        changed = changed.with_changes(document_entries=(entry,))
    elif field in ("authorPerson", "authorInstitution"):
        changed = changed.with_changes(submission_sets=(changed.submission_sets[0].with_changes(
            authors=original_set.authors),))
    else:  # patientId, everywhere at once (one patient per submission)
        changed = changed.with_changes(
            document_entries=(changed.document_entries[0].with_changes(patient_id=original_entry.patient_id),),
            submission_sets=(changed.submission_sets[0].with_changes(patient_id=original_set.patient_id),))
    assert field in {f for _, f in map(field_named, NORWAY_PROFILE.validate(changed, REGISTER))}
