"""NORWAY_PROFILE: the valid Norwegian sample passes; each test changes one field and asserts the
exact code and a codeContext naming the field, the value found and what is allowed; lenient mode
turns the Norwegian issues into warnings while IHE-base errors stay errors.

Person numbers are synthetic, computed with the published weights (13116900216 is PROFILE.md's
example; 13116900488 another valid fødselsnummer; 13916900281 a synthetic test person, month
+ 80; 13116900224 valid only under the 2032 rule; 13516900460 an H-nummer).
"""
from __future__ import annotations

import json

import pytest

from profiles.errors import ErrorCode, Issue, Severity
from profiles.model import Author, Code, Submission
from profiles.norway.options import norway_extras, options_for
from profiles.norway.profile import NORWAY_PROFILE
from profiles.rules import Transaction, ValidationContext
from profiles.vocabulary import ObjectType
from tests.profiles import samples
from tests.profiles.norway import norway_samples as ns

METADATA = ErrorCode.REGISTRY_METADATA_ERROR
UNKNOWN_PATIENT = ErrorCode.UNKNOWN_PATIENT_ID
NOT_MATCHING = ErrorCode.PATIENT_ID_DOES_NOT_MATCH
IHE_PATIENT = "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"


def validate(submission: Submission, context: ValidationContext | None = None, **extras) -> list[Issue]:
    context = context or ns.register()
    if extras:
        context = context.with_changes(extras=norway_extras(**extras))
    return NORWAY_PROFILE.validate(submission, context)


def single(issues: list[Issue], code: ErrorCode, *fragments: str) -> Issue:
    """Exactly one issue, with this code, whose codeContext contains every fragment."""
    assert len(issues) == 1, issues
    assert issues[0].code is code, issues
    assert all(f in issues[0].context for f in fragments), (fragments, issues[0].context)
    return issues[0]


def doc(**changes):
    """Change Document01 only."""
    return ns.submission(doc=lambda d: d.with_changes(**changes))


def everywhere(patient_id: str) -> Submission:
    """The sample about another patient: every patientId and sourcePatientId changed together."""
    return ns.submission(
        doc=lambda d: d.with_changes(patient_id=patient_id, source_patient_id=patient_id),
        doc2=lambda d: d.with_changes(patient_id=patient_id, source_patient_id=patient_id),
        submission_set=lambda s: s.with_changes(patient_id=patient_id),
        folder=lambda f: f.with_changes(patient_id=patient_id),
    )


def _author(**changes) -> Author:
    base = ns.author()
    return Author(**{"person": base.person, "institutions": base.institutions, "roles": base.roles,
                     "specialties": base.specialties, "telecommunications": base.telecommunications, **changes})


# --- the valid sample -----------------------------------------------------------------------

def test_valid_sample_passes_register():
    assert validate(ns.submission()) == []


def test_valid_sample_passes_provide_and_register():
    assert validate(*ns.provide_and_register()) == []


def test_valid_sample_passes_as_registry_metadata():
    stored = samples.as_registry_metadata(ns.submission())
    assert validate(stored, ValidationContext(Transaction.QUERY_RESPONSE)) == []


def test_every_norwegian_rule_is_profile_only():
    norwegian = [r for r in NORWAY_PROFILE.rules if r.name.startswith("norway.")]
    assert len(norwegian) == 17 and all(r.profile_only for r in norwegian)


# --- codes ----------------------------------------------------------------------------------

def test_class_code_not_from_9602():
    issue = single(validate(doc(class_code=Code("History and Physical", "Connect-a-thon classCodes"))), METADATA,
                   "DocumentEntry Document01: classCode 'History and Physical' (codingScheme "
                   "'Connect-a-thon classCodes') is not in Volven 9602 (2.16.578.1.12.4.1.1.9602); "
                   "use a class code such as A00-1 Epikriser og sammenfatninger")
    assert issue.location == "Document01"


def test_class_code_with_the_wrong_coding_scheme():
    single(validate(doc(class_code=Code("A00-1", "9602"))), METADATA,
           "classCode 'A00-1' (codingScheme '9602')", "codingScheme must be 2.16.578.1.12.4.1.1.9602")


def test_coding_scheme_may_carry_urn_oid():
    assert validate(doc(class_code=Code("A00-1", "urn:oid:2.16.578.1.12.4.1.1.9602"))) == []


def test_class_code_that_is_a_type_code():
    single(validate(doc(class_code=ns.TYPE_CODE)), METADATA,
           "classCode 'A03-2'", "is a 9602 type code", "a classCode ends in 00-1", "A00-1")


def test_type_code_not_from_9602():
    single(validate(doc(type_code=Code("34108-1", "LOINC"))), METADATA,
           "typeCode '34108-1' (codingScheme 'LOINC') is not in Volven 9602",
           "use a type code of class A00-1 such as A03-2 Epikrise")


def test_type_code_that_is_a_class_code():
    single(validate(doc(type_code=ns.CLASS_CODE)), METADATA, "typeCode 'A00-1'", "is a 9602 class code")


def test_type_code_of_another_class():
    single(validate(doc(type_code=ns.volven("9602", "B02-2", "Journalnotat"))), METADATA,
           "typeCode 'B02-2' belongs to class B00-1", "but classCode is 'A00-1'", "set classCode B00-1")


def test_confidentiality_code_not_from_9603_or_hl7():
    single(validate(doc(confidentiality_codes=(Code("1.3.6.1.4.1.21367.2006.7.101", "Connect-a-thon"),))), METADATA,
           "confidentialityCode '1.3.6.1.4.1.21367.2006.7.101'",
           "Volven 9603 (2.16.578.1.12.4.1.1.9603) or HL7 v3 Confidentiality (2.16.840.1.113883.5.25)", "N Normal")


def test_confidentiality_code_under_the_other_list_scheme():
    single(validate(doc(confidentiality_codes=(ns.volven("9603", "V", "very restricted"),))), METADATA,
           "confidentialityCode 'V' (codingScheme '2.16.578.1.12.4.1.1.9603')",
           "codingScheme must be 2.16.840.1.113883.5.25")


@pytest.mark.parametrize("code", ["NORS", "NORU", "NORN_UNGDOM"])
def test_norwegian_confidentiality_codes_pass(code):
    assert validate(doc(confidentiality_codes=(ns.volven("9603", code, code),))) == []


def test_healthcare_facility_type_code_not_from_1303():
    single(validate(doc(healthcare_facility_type_code=Code("Outpatient", "Connect-a-thon"))), METADATA,
           "healthcareFacilityTypeCode 'Outpatient'", "Volven 1303 (2.16.578.1.12.4.1.1.1303)",
           "86.101 Alminnelige somatiske sykehus")


def test_practice_setting_code_not_from_its_lists():
    single(validate(doc(practice_setting_code=Code("General Medicine", "Connect-a-thon"))), METADATA,
           "practiceSettingCode 'General Medicine'",
           "Volven 8655, 8651, 8653, 8654 or 8663 (2.16.578.1.12.4.1.1.<list>)", "S03 Indremedisin")


def test_practice_setting_code_from_8663_passes():
    assert validate(doc(practice_setting_code=ns.volven("8663", "KA02", "Legevakt"))) == []


def test_event_code_scheme_while_7210_is_empty():
    single(validate(doc(event_codes=(Code("T-D4909", "SNOMED", "Kidney"),))), METADATA,
           "eventCodeList 'T-D4909' (codingScheme 'SNOMED')",
           "is not in Volven 7210 (2.16.578.1.12.4.1.1.7210); use codingScheme 2.16.578.1.12.4.1.1.7210",
           "only the scheme is judged")
    assert validate(doc(event_codes=(ns.volven("7210", "T-D4909", "Kidney"),))) == []


def test_event_code_from_a_loaded_7210(tmp_path):
    (tmp_path / "7210.json").write_text(json.dumps({
        "list": "7210", "oid": "2.16.578.1.12.4.1.1.7210", "name": "7210 test", "source": "test",
        "retrieved": "2026-01-01", "complete": True, "codes": [{"code": "M80003", "display": "Malign svulst"}]}))
    extras = {"code_sets_dir": tmp_path}
    assert validate(doc(event_codes=(ns.volven("7210", "M80003", ""),)), **extras) == []
    single(validate(doc(event_codes=(ns.volven("7210", "T-D4909", ""),)), **extras), METADATA,
           "eventCodeList 'T-D4909'", "is not a code of Volven 7210", "M80003 Malign svulst")


def test_format_code_unknown():
    single(validate(doc(format_code=Code("CDAR2/IHE 1.0", "Connect-a-thon formatCodes"))), METADATA,
           "formatCode 'CDAR2/IHE 1.0'", "is not a known format code", "urn:no:ehelse:document:pdf")


def test_code_missing_from_a_partial_list_can_be_only_a_warning():
    broken = doc(type_code=ns.volven("9602", "A99-2", "?"))
    single(validate(broken), METADATA, "typeCode 'A99-2'", "list 9602 is partial", "xdsno codes import")
    warning = single(validate(broken, partial_code_lists="warning"), METADATA, "typeCode 'A99-2'")
    assert warning.severity is Severity.WARNING
    complete_list = doc(confidentiality_codes=(ns.volven("9603", "X", "?"),))
    assert validate(complete_list, partial_code_lists="warning")[0].is_error


# --- patients -------------------------------------------------------------------------------

def test_patient_id_from_a_foreign_domain():
    issues = validate(everywhere(IHE_PATIENT))
    patient_issues = [i for i in issues if "patientId" in i.context and "sourcePatientId" not in i.context]
    assert {i.code for i in patient_issues} == {UNKNOWN_PATIENT}
    assert {i.location for i in patient_issues} == {"SubmissionSet01", "Document01", "Document02", "Folder01"}
    assert all("assigning authority 1.3.6.1.4.1.21367.2005.3.7 is not a Norwegian person identifier domain"
               in i.context and "fødselsnummer (2.16.578.1.12.4.1.4.1)" in i.context for i in patient_issues)


def test_patient_id_with_wrong_check_digits():
    issues = validate(everywhere("13116900217^^^&2.16.578.1.12.4.1.4.1&ISO"))
    assert len(issues) == 6  # four patientIds (XDSUnknownPatientId) and the two sourcePatientIds
    folder = [i for i in issues if i.location == "Folder01"]
    single(folder, UNKNOWN_PATIENT, "Folder Folder01: patientId '13116900217^^^&2.16.578.1.12.4.1.4.1&ISO'",
           "check digits do not match (mod 11, classic rule)")


def test_d_nummer_under_the_fodselsnummer_authority():
    issues = validate(everywhere("53116900048^^^&2.16.578.1.12.4.1.4.1&ISO"))
    assert {i.code for i in issues} == {UNKNOWN_PATIENT, METADATA}
    assert all("is a D-nummer" in i.context and "is for fødselsnummer" in i.context for i in issues)


def test_d_nummer_and_fh_nummer_pass():
    assert validate(everywhere(ns.DNR_PATIENT_ID)) == []
    assert validate(everywhere("98000000132^^^&2.16.578.1.12.4.1.4.3&ISO")) == []


def test_synthetic_person_only_when_configured():
    synthetic = everywhere("13916900281^^^&2.16.578.1.12.4.1.4.1&ISO")
    assert all("synthetic test person" in i.context for i in validate(synthetic))
    assert len(validate(synthetic)) == 6
    assert validate(synthetic, allow_synthetic=True) == []


def test_check_digit_scheme_is_configurable():
    new_rule = everywhere("13116900224^^^&2.16.578.1.12.4.1.4.1&ISO")
    assert len(validate(new_rule, check_digit_scheme="classic")) == 6
    assert validate(new_rule, check_digit_scheme="2032") == []
    assert validate(new_rule, check_digit_scheme="transition") == []


def test_patient_authorities_are_configurable():
    assert len(validate(everywhere(ns.DNR_PATIENT_ID), patient_authorities=("2.16.578.1.12.4.1.4.1",))) == 6
    local_h = "13516900460^^^&2.16.578.1.12.4.5.100.1&ISO"
    assert validate(everywhere(local_h), patient_authorities=("2.16.578.1.12.4.5.100.1=hnr",)) == []


def test_source_patient_id_from_a_foreign_domain():
    single(validate(doc(source_patient_id="ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO")), METADATA,
           "DocumentEntry Document01: sourcePatientId 'ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO'",
           "is not a Norwegian person identifier domain")


def test_source_patient_id_of_another_person():
    single(validate(doc(source_patient_id="13116900488^^^&2.16.578.1.12.4.1.4.1&ISO")), NOT_MATCHING,
           "sourcePatientId '13116900488^^^&2.16.578.1.12.4.1.4.1&ISO'",
           f"patientId '{ns.PATIENT_ID}' are different persons")


def test_source_patient_id_under_another_authority_is_not_compared():
    assert validate(doc(source_patient_id=ns.DNR_PATIENT_ID)) == []


# --- authors and legal authenticator ---------------------------------------------------------

def test_author_institution_without_orgnr_or_resh():
    single(validate(doc(authors=(_author(institutions=("Cleveland Clinic",)),))), METADATA,
           "author 1 authorInstitution 'Cleveland Clinic' is identified by no assigning authority (XON.6)",
           "organisasjonsnummer (2.16.578.1.12.4.1.4.101)", "^^^^983974880")


def test_author_institution_orgnr_with_wrong_check_digit():
    bad = "Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974881"
    single(validate(doc(authors=(_author(institutions=(bad,)),))), METADATA,
           f"authorInstitution {bad!r} has XON.10 '983974881'", "check digit does not match")


def test_author_institution_department_only():
    single(validate(doc(authors=(_author(institutions=(ns.RESH_INSTITUTION,)),))), METADATA,
           "author 1 authorInstitution names only departments (RESH)", "add the legal entity by organisasjonsnummer")


def test_author_person_without_hpr():
    single(validate(doc(authors=(_author(person="^Smitty^Gerald^^^"),))), METADATA,
           "author 1 authorPerson '^Smitty^Gerald^^^' is not identified by HPR-nummer",
           "XCN.9 is empty", "&2.16.578.1.12.4.1.4.4&ISO")


def test_author_person_hpr_not_digits():
    single(validate(doc(authors=(_author(person="56550593X^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"),))),
           METADATA, "authorPerson", "XCN.1 '56550593X'", "digits only")


def test_legal_authenticator_without_hpr():
    single(validate(doc(legal_authenticator="^Welby^Marcus^^^Dr^MD")), METADATA,
           "legalAuthenticator '^Welby^Marcus^^^Dr^MD' is not identified by HPR-nummer")


def test_author_parts_r2_by_default_and_r_when_configured():
    no_person = doc(authors=(_author(person=None),))
    assert validate(no_person) == []
    single(validate(no_person, optionality=("author.authorPerson=R",)), METADATA,
           "author 1 has no authorPerson", "requires (R)")


# --- the document ---------------------------------------------------------------------------

def test_language_code_not_accepted():
    single(validate(doc(language_code="sv-SE")), METADATA,
           "languageCode 'sv-SE' is not accepted here", "nb-NO, nn-NO, se-NO, en-*")


@pytest.mark.parametrize("tag", ["nn-NO", "se-NO", "en-GB", "nb-no"])
def test_accepted_language_codes(tag):
    assert validate(doc(language_code=tag)) == []


def test_language_codes_are_configurable():
    assert validate(doc(language_code="sv-SE"), language_codes=("nb-NO", "sv-*")) == []
    single(validate(doc(language_code="en-GB"), language_codes=("nb-NO",)), METADATA, "'en-GB'", "use one of nb-NO")


def test_on_demand_refused_in_registry_metadata():
    stored = samples.as_registry_metadata(doc(object_type=ObjectType.ON_DEMAND_DOCUMENT, hash=None, size=None))
    single(validate(stored, ValidationContext(Transaction.QUERY_RESPONSE)), METADATA,
           "objectType 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248' (On-Demand) is not used",
           "only Stable")


def test_practice_setting_code_is_r2_unless_configured():
    missing = doc(practice_setting_code=None)
    assert validate(missing) == []
    single(validate(missing, optionality=()), METADATA, "practiceSettingCode is required (R) in ITI-42")


# --- transactions and lenient mode ----------------------------------------------------------

def test_iti41_issues_are_repository_metadata_errors():
    submission, context = ns.provide_and_register(doc=lambda d: d.with_changes(language_code="sv-SE"))
    single(validate(submission, context), ErrorCode.REPOSITORY_METADATA_ERROR, "languageCode 'sv-SE'")


def test_lenient_mode_warns_on_norwegian_rules_but_keeps_ihe_errors():
    broken = doc(class_code=Code("History and Physical", "Connect-a-thon classCodes"), creation_time="2005122")
    issues = validate(broken, ns.register(strict=False))
    by_severity = {i.severity: i for i in issues}
    assert len(issues) == 2
    assert "classCode 'History and Physical'" in by_severity[Severity.WARNING].context
    assert "creationTime '2005122'" in by_severity[Severity.ERROR].context


def test_lenient_mode_downgrades_only_norwegian_requirements():
    missing = doc(legal_authenticator=None, class_code=None)
    issues = validate(missing, ns.register(strict=False), optionality=("DocumentEntry.legalAuthenticator=R",))
    assert {(i.severity, i.context.split(": ")[1].split(" ")[0]) for i in issues} == {
        (Severity.WARNING, "legalAuthenticator"), (Severity.ERROR, "classCode")}


@pytest.mark.parametrize("extras, fragment", [
    ({"check_digit_scheme": "2031"}, "check_digit_scheme"),
    ({"patient_authorities": ("1.2.3",)}, "1.2.3=fnr|dnr|fhn|hnr"),
    ({"optionality": ("DocumentEntry.nonsense=R",)}, "names no attribute"),
    ({"optionality": ("DocumentEntry.classCode=MUST",)}, "R, R2, O, X"),
    ({"partial_code_lists": "ignore"}, "error or warning"),
])
def test_bad_extras_are_refused_with_their_name(extras, fragment):
    with pytest.raises(ValueError, match=fragment.replace("|", r"\|")):
        norway_extras(**extras)


def test_context_without_extras_gets_the_defaults():
    options = options_for(ns.register())
    assert options.language_codes == ("nb-NO", "nn-NO", "se-NO", "en-*") and not options.allow_synthetic
    assert "2.16.578.1.12.4.1.4.3" in options.patient_authorities


def test_code_bindings_are_configurable():
    from_1305 = doc(healthcare_facility_type_code=ns.volven("1305", "86.210", "?"))
    single(validate(from_1305), METADATA, "healthcareFacilityTypeCode '86.210'", "is not in Volven 1303")
    assert validate(from_1305, code_bindings=("healthcareFacilityTypeCode=1303+1305",)) == []
    with pytest.raises(ValueError, match="not loaded"):
        norway_extras(code_bindings=("practiceSettingCode=9999",))
