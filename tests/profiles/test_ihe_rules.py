"""IHE_PROFILE: the valid sample passes; each test breaks one thing and asserts the exact error
code and that the codeContext names the object, the attribute and the value."""
from __future__ import annotations

import pytest

from profiles.errors import ErrorCode, Issue
from profiles.ihe import IHE_OPTIONALITY, IHE_PROFILE, optionality_rule
from profiles.model import Association, Author, Code, DocumentEntry, Submission
from profiles.rules import Transaction, ValidationContext
from profiles.vocabulary import AssociationType, AvailabilityStatus, ObjectType
from tests.profiles import samples

METADATA = ErrorCode.REGISTRY_METADATA_ERROR
EXISTING = samples.EXISTING_DOCUMENT
OTHER_UUID = "urn:uuid:0d6b2c1a-8a5e-4f3b-9d7c-6e5f4a3b2c1d"


def validate(submission: Submission, context: ValidationContext | None = None) -> list[Issue]:
    return IHE_PROFILE.validate(submission, context or samples.register())


def single(issues: list[Issue], code: ErrorCode, *fragments: str) -> Issue:
    """Exactly one issue, with this code, whose codeContext contains every fragment."""
    assert len(issues) == 1, issues
    return matching(issues, code, *fragments)


def matching(issues: list[Issue], code: ErrorCode, *fragments: str) -> Issue:
    """Every issue has this code; one of them names every fragment."""
    assert issues, "expected issues, found none"
    assert {issue.code for issue in issues} == {code}, issues
    for issue in issues:
        if all(fragment in issue.context for fragment in fragments):
            return issue
    raise AssertionError(f"no issue names {fragments}: {[i.context for i in issues]}")


def with_associations(*extra, drop: tuple[str, ...] = ()):
    return lambda associations: tuple(a for a in associations if a.id not in drop) + extra


def with_patient(patient_id: str):
    def change(submission: Submission) -> Submission:
        return submission.with_changes(
            document_entries=tuple(e.with_changes(patient_id=patient_id) for e in submission.document_entries),
            submission_sets=tuple(s.with_changes(patient_id=patient_id) for s in submission.submission_sets),
            folders=tuple(f.with_changes(patient_id=patient_id) for f in submission.folders),
        )
    return change


# --- the valid sample -------------------------------------------------------------------------

def test_valid_sample_passes_register():
    assert validate(samples.submission()) == []


def test_valid_sample_passes_provide_and_register():
    assert validate(*samples.provide_and_register()) == []


def test_provide_and_register_may_carry_hash_size_and_repository():
    submission = samples.submission()
    context = ValidationContext(Transaction.PROVIDE_AND_REGISTER,
                                documents_attached=frozenset({samples.DOCUMENT_1, samples.DOCUMENT_2}))
    assert validate(submission, context) == []


def test_valid_sample_passes_update():
    assert validate(samples.submission(), ValidationContext(Transaction.UPDATE)) == []


def test_registry_metadata_passes_as_query_response():
    assert validate(samples.as_registry_metadata(), ValidationContext(Transaction.QUERY_RESPONSE)) == []


def test_rule_names_are_stable():
    for name in ("document-entry.required-attributes", "patient-id.single-patient", "submission.single-submission-set",
                 "documents.document-for-each-entry", "association.submission-set-status"):
        assert name in IHE_PROFILE


# --- optionality (ITI TF-3 Table 4.3.1-3) -----------------------------------------------------

DOCUMENT_ENTRY_REQUIRED = {
    "classCode": {"class_code": None},
    "confidentialityCode": {"confidentiality_codes": ()},
    "creationTime": {"creation_time": None},
    "formatCode": {"format_code": None},
    "healthcareFacilityTypeCode": {"healthcare_facility_type_code": None},
    "languageCode": {"language_code": None},
    "mimeType": {"mime_type": None},
    "objectType": {"object_type": ""},
    "patientId": {"patient_id": None},
    "practiceSettingCode": {"practice_setting_code": None},
    "sourcePatientId": {"source_patient_id": None},
    "typeCode": {"type_code": None},
    "uniqueId": {"unique_id": None},
}


@pytest.mark.parametrize("attribute", sorted(DOCUMENT_ENTRY_REQUIRED))
def test_document_entry_required_attribute_missing_in_register(attribute):
    issues = validate(samples.submission(doc=lambda d: d.with_changes(**DOCUMENT_ENTRY_REQUIRED[attribute])))
    issue = single(issues, METADATA, "DocumentEntry Document01", attribute, "required (R)", "ITI-42")
    assert issue.location == samples.DOCUMENT_1


@pytest.mark.parametrize("attribute", sorted(DOCUMENT_ENTRY_REQUIRED))
def test_document_entry_required_attribute_missing_in_provide_and_register(attribute):
    issues = validate(*samples.provide_and_register(doc=lambda d: d.with_changes(**DOCUMENT_ENTRY_REQUIRED[attribute])))
    single(issues, ErrorCode.REPOSITORY_METADATA_ERROR, "DocumentEntry Document01", attribute, "ITI-41")


@pytest.mark.parametrize("field, attribute", [("hash", "hash"), ("size", "size"),
                                              ("repository_unique_id", "repositoryUniqueId")])
def test_repository_attributes_required_in_register_only(field, attribute):
    issues = validate(samples.submission(doc=lambda d: d.with_changes(**{field: None})))
    single(issues, METADATA, "Document01", attribute, "required (R) in ITI-42")


@pytest.mark.parametrize("changes", [
    {"authors": ()}, {"service_start_time": None}, {"service_stop_time": None}, {"event_codes": ()},
    {"legal_authenticator": None}, {"source_patient_info": ()}, {"name": ()}, {"description": ()},
])
def test_document_entry_r2_and_optional_attributes_may_be_missing(changes):
    assert validate(samples.submission(doc=lambda d: d.with_changes(**changes))) == []


@pytest.mark.parametrize("attribute, changes", [
    ("uniqueId", {"unique_id": None}),
    ("sourceId", {"source_id": None}),
    ("patientId", {"patient_id": None}),
    ("submissionTime", {"submission_time": None}),
    ("contentTypeCode", {"content_type_code": None}),
])
def test_submission_set_required_attribute_missing(attribute, changes):
    issues = validate(samples.submission(submission_set=lambda s: s.with_changes(**changes)))
    single(issues, METADATA, "SubmissionSet SubmissionSet01", attribute, "required (R)")


def test_submission_set_author_is_r2():
    assert validate(samples.submission(submission_set=lambda s: s.with_changes(authors=()))) == []


@pytest.mark.parametrize("attribute, changes", [
    ("codeList", {"codes": ()}), ("patientId", {"patient_id": None}), ("title", {"name": ()}),
    ("uniqueId", {"unique_id": None}),
])
def test_folder_required_attribute_missing(attribute, changes):
    issues = validate(samples.submission(folder=lambda f: f.with_changes(**changes)))
    single(issues, METADATA, "Folder Folder01", attribute, "required (R)")


def test_limited_metadata_is_prohibited_in_xds():
    issues = validate(samples.submission(doc=lambda d: d.with_changes(limited_metadata=True)))
    single(issues, METADATA, "DocumentEntry Document01", "limitedMetadata", "prohibited (X)")


def test_limited_metadata_relaxes_requirements_where_accepted():
    submission, context = samples.provide_and_register(
        doc=lambda d: d.with_changes(limited_metadata=True, class_code=None, type_code=None, creation_time=None))
    assert validate(submission, context.with_changes(accept_limited_metadata=True)) == []


def test_limited_metadata_still_requires_unique_id():
    submission, context = samples.provide_and_register(
        doc=lambda d: d.with_changes(limited_metadata=True, unique_id=None))
    issues = validate(submission, context.with_changes(accept_limited_metadata=True))
    single(issues, ErrorCode.REPOSITORY_METADATA_ERROR, "uniqueId", "limitedMetadata object")


def test_registry_metadata_requires_availability_status():
    submission = samples.as_registry_metadata(samples.submission(doc=lambda d: d))
    submission = submission.with_changes(
        document_entries=(submission.document_entries[0].with_changes(status=None), submission.document_entries[1]))
    issues = validate(submission, ValidationContext(Transaction.QUERY_RESPONSE))
    single(issues, METADATA, "availabilityStatus", "registry metadata")


def test_a_national_table_changes_one_requirement():
    table = IHE_OPTIONALITY.with_requirement(DocumentEntry, "practiceSettingCode", xds_ds="R2", xds_dr="R2")
    profile = IHE_PROFILE.replace("document-entry.required-attributes",
                                  optionality_rule("document-entry.required-attributes", DocumentEntry, table))
    submission = samples.submission(doc=lambda d: d.with_changes(practice_setting_code=None))
    assert profile.validate(submission, samples.register()) == []
    assert IHE_OPTIONALITY.requirement(DocumentEntry, "practiceSettingCode", "xds_dr") == "R"


# --- value formats ------------------------------------------------------------------------------

def doc(**changes):
    return {"doc": lambda d: d.with_changes(**changes)}


def sset(**changes):
    return {"submission_set": lambda s: s.with_changes(**changes)}


def fold(**changes):
    return {"folder": lambda f: f.with_changes(**changes)}


FORMAT_ERRORS = {
    "creationTime too short": (doc(creation_time="2005122"), ("Document01", "creationTime", "'2005122'", "DTM")),
    "creationTime month 13": (doc(creation_time="20051324"), ("creationTime", "month 13")),
    "creationTime with zone": (doc(creation_time="20051224101010+0100"), ("creationTime", "time zone")),
    "creationTime with fraction": (doc(creation_time="20051224101010.5"), ("creationTime", "fractional")),
    "creationTime ISO 8601": (doc(creation_time="2005-12-24"), ("creationTime", "'2005-12-24'")),
    "serviceStartTime": (doc(service_start_time="200412231"), ("serviceStartTime", "'200412231'")),
    "serviceStopTime": (doc(service_stop_time="2004122325"), ("serviceStopTime", "hour 25")),
    "submissionTime": (sset(submission_time="20041225 235050"), ("SubmissionSet01", "submissionTime")),
    "lastUpdateTime": (fold(last_update_time="yesterday"), ("Folder01", "lastUpdateTime")),
    "document uniqueId leading zero": (doc(unique_id="1.3.6.01"), ("Document01", "uniqueId", "'1.3.6.01'")),
    "document uniqueId empty extension": (doc(unique_id="1.2.3^"), ("uniqueId", "extension")),
    "document uniqueId long extension": (doc(unique_id="1.2.3^" + "x" * 17), ("uniqueId", "1-16")),
    "document uniqueId root not OID": (doc(unique_id="abc^123"), ("uniqueId", "root 'abc'")),
    "document uniqueId over 128 bytes": (doc(unique_id="x" * 129), ("uniqueId", "128 bytes")),
    "document uniqueId OID over 64": (doc(unique_id="1." + "2." * 40 + "3"), ("uniqueId", "OID")),
    "submission set uniqueId urn": (sset(unique_id="urn:oid:1.2.3"), ("SubmissionSet01", "uniqueId", "not an OID")),
    "submission set uniqueId over 64": (sset(unique_id="1." + "2." * 40 + "3"), ("uniqueId", "64")),
    "sourceId": (sset(source_id="source-1"), ("sourceId", "'source-1'", "OID")),
    "folder uniqueId": (fold(unique_id="Folder01-uid"), ("Folder01", "uniqueId", "OID")),
    "repositoryUniqueId": (doc(repository_unique_id="1.2.3.x"), ("repositoryUniqueId", "'1.2.3.x'")),
    "hash short": (doc(hash="4cf4f82d"), ("hash", "'4cf4f82d'", "40 hexadecimal")),
    "hash not hex": (doc(hash="g" * 40), ("hash", "40 hexadecimal")),
    "size negative": (doc(size="-1"), ("size", "'-1'", "non-negative integer")),
    "size decimal": (doc(size="12.5"), ("size", "'12.5'")),
    "languageCode underscore": (doc(language_code="en_US"), ("languageCode", "'en_US'", "RFC 3066")),
    "languageCode long subtag": (doc(language_code="englishlanguage-us"), ("languageCode", "RFC 3066")),
    "mimeType no subtype": (doc(mime_type="text"), ("mimeType", "'text'", "type/subtype")),
    "mimeType space": (doc(mime_type="text/ xml"), ("mimeType", "'text/ xml'")),
    "objectType on-demand": (doc(object_type=ObjectType.ON_DEMAND_DOCUMENT), ("objectType", "34268e47")),
    "objectType unknown": (doc(object_type="urn:uuid:00000000-0000-0000-0000-000000000000"), ("objectType",)),
    "documentAvailability": (doc(document_availability="Online"), ("documentAvailability", "'Online'")),
    "homeCommunityId": (doc(home="1.2.3"), ("homeCommunityId", "'1.2.3'", "urn:oid:")),
    "logicalID symbolic": (doc(lid="Document01"), ("logicalID", "'Document01'", "urn:uuid:")),
    "logicalID differs outside ITI-57": (doc(lid=OTHER_UUID), ("logicalID", "only ITI-57")),
    "classCode without code": (doc(class_code=Code("", "Connect-a-thon classCodes", "Consult")),
                               ("classCode", "no code value")),
    "typeCode without scheme": (doc(type_code=Code("34108-1", "", "Outpatient Note")),
                                ("typeCode", "'34108-1'", "codingScheme")),
    "confidentialityCode without scheme": (doc(confidentiality_codes=(Code("N", ""),)), ("confidentialityCode",)),
    "eventCode without scheme": (doc(event_codes=(Code("T-D4909", ""),)), ("eventCodeList",)),
    "contentTypeCode without scheme": (sset(content_type_code=Code("Initial evaluation", "")), ("contentTypeCode",)),
    "folder code without code": (fold(codes=(Code("", "Connect-a-thon folderCodeList"),)), ("codeList",)),
    "sourcePatientId without authority": (doc(source_patient_id="89765a87b"), ("sourcePatientId", "CX.4")),
    "sourcePatientId without id": (doc(source_patient_id="^^^&3.4.5&ISO"), ("sourcePatientId", "CX.1")),
    "sourcePatientInfo": (doc(source_patient_info=("Doe^John",)), ("sourcePatientInfo", "'Doe^John'", "PID-")),
    "legalAuthenticator": (doc(legal_authenticator="^^Marcus"), ("legalAuthenticator", "XCN")),
    "authorPerson no name or id": (doc(authors=(Author(person="^^Gerald"),)), ("author 1", "authorPerson", "XCN")),
    "authorPerson bad authority": (doc(authors=(Author(person="123^Smitty^^^^^^^&1.2.3&XX"),)),
                                   ("authorPerson", "XCN.9")),
    "authorInstitution no name": (doc(authors=(Author(institutions=("^^^^^^^^^1.2.3",)),)),
                                  ("authorInstitution", "XON.1")),
    "authorInstitution id not OID": (doc(authors=(Author(institutions=("Clinic^^^^^^^^^abc",)),)),
                                     ("authorInstitution", "XON.10")),
    "authorTelecommunication no email": (doc(authors=(Author(telecommunications=("^^Internet",)),)),
                                         ("authorTelecommunication", "XTN.4")),
    "author with no identity": (doc(authors=(Author(roles=("Attending",)),)), ("author 1", "none of authorPerson")),
    "submission set author": (sset(authors=(Author(person="^^Sherry"),)), ("SubmissionSet01", "authorPerson")),
}


@pytest.mark.parametrize("name", list(FORMAT_ERRORS))
def test_format_error(name):
    parts, fragments = FORMAT_ERRORS[name]
    single(validate(samples.submission(**parts)), METADATA, *fragments)


@pytest.mark.parametrize("unique_id", ["1.2.3.4", "1.2.3^abc", "1.2.3^" + "x" * 16, "urn:ietf:rfc:3986-style-id"])
def test_document_unique_id_forms_accepted(unique_id):
    assert validate(samples.submission(doc=lambda d: d.with_changes(unique_id=unique_id))) == []


@pytest.mark.parametrize("changes", [
    {"creation_time": "2005"}, {"creation_time": "200512"}, {"creation_time": "20051224101010"},
    {"language_code": "nb-NO"}, {"language_code": "i-klingon"}, {"mime_type": "application/pdf"},
    {"mime_type": "text/plain; charset=UTF-8"}, {"size": "0"}, {"hash": "4CF4F82D78B5E2AAC35C31BCA8CB79FE6BD6A41E"},
    {"home": "urn:oid:1.3.6.1.4.1.21367.13.70.1"}, {"lid": samples.EXISTING_DOCUMENT, "id": samples.EXISTING_DOCUMENT},
    {"document_availability": "urn:ihe:iti:2010:DocumentAvailability:Offline"},
])
def test_valid_values_accepted(changes):
    if "id" in changes:  # the entry keeps its memberships under its new id
        submission = samples.submission(doc=lambda d: d.with_changes(**changes), associations=lambda assocs: tuple(
            a.with_changes(target=changes["id"]) if a.target == samples.DOCUMENT_1 else a for a in assocs))
    else:
        submission = samples.submission(doc=lambda d: d.with_changes(**changes))
    assert validate(submission) == []


def test_logical_id_may_differ_in_update():
    submission = samples.submission(doc=lambda d: d.with_changes(lid=OTHER_UUID))
    assert validate(submission, ValidationContext(Transaction.UPDATE)) == []


def test_symbolic_id_is_not_registry_metadata():
    submission = samples.as_registry_metadata()
    submission = submission.with_changes(associations=submission.associations[:-1] + (
        submission.associations[-1].with_changes(id="SsFolderDoc01"),))
    single(validate(submission, ValidationContext(Transaction.QUERY_RESPONSE)), METADATA, "entryUUID", "symbolic")


def test_malformed_uuid_id():
    issues = validate(samples.submission(associations=with_associations(
        samples.has_member("urn:uuid:1234", samples.SUBMISSION_SET, EXISTING, "Reference"))))
    single(issues, METADATA, "Association urn:uuid:1234", "not a UUID")


def test_on_demand_entries_are_registry_metadata():
    submission = samples.as_registry_metadata(samples.submission(
        doc=lambda d: d.with_changes(object_type=ObjectType.ON_DEMAND_DOCUMENT, hash=None, size=None)))
    assert validate(submission, ValidationContext(Transaction.QUERY_RESPONSE)) == []


# --- patients -----------------------------------------------------------------------------------

@pytest.mark.parametrize("part, name", [("doc2", "DocumentEntry Document02"), ("folder", "Folder Folder01")])
def test_other_patient_does_not_match(part, name):
    issues = validate(samples.submission(**{part: lambda o: o.with_changes(patient_id=samples.OTHER_PATIENT_ID)}))
    issue = single(issues, ErrorCode.PATIENT_ID_DOES_NOT_MATCH, name, "'ST-2000", "SubmissionSet SubmissionSet01")
    assert issue.location in (samples.DOCUMENT_2, samples.FOLDER)


def test_submission_set_patient_differs_from_all_members():
    issues = validate(samples.submission(submission_set=lambda s: s.with_changes(patient_id=samples.OTHER_PATIENT_ID)))
    assert len(issues) == 3
    matching(issues, ErrorCode.PATIENT_ID_DOES_NOT_MATCH, "Document01")


def test_query_response_may_hold_several_patient_ids():
    submission = samples.as_registry_metadata(samples.submission(
        doc2=lambda d: d.with_changes(patient_id=samples.OTHER_PATIENT_ID)))
    assert validate(submission, ValidationContext(Transaction.QUERY_RESPONSE)) == []


def test_same_patient_written_with_trailing_separator_matches():
    assert validate(samples.submission(doc=lambda d: d.with_changes(patient_id=samples.PATIENT_ID + "^"))) == []


@pytest.mark.parametrize("patient_id, fragment", [
    ("ST-1000^^^1.3.6.1.4.1.21367.2003.3.9", "CX.4"),
    ("ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&L", "'ISO'"),
    ("^^^&1.3.6.1.4.1.21367.2003.3.9&ISO", "CX.1"),
    ("ST-1000^1^^&1.3.6.1.4.1.21367.2003.3.9&ISO", "CX.2"),
])
def test_patient_id_is_an_xds_cx(patient_id, fragment):
    issues = validate(samples.submission(then=with_patient(patient_id)))
    assert len(issues) == 4  # SubmissionSet, two DocumentEntries, Folder
    matching(issues, METADATA, "DocumentEntry Document01", "patientId", repr(patient_id), fragment)


# --- structure ----------------------------------------------------------------------------------

def test_submission_without_submission_set():
    issues = validate(samples.submission(then=lambda s: s.with_changes(submission_sets=(), associations=())))
    single(issues, METADATA, "exactly one SubmissionSet", "found 0")


def test_submission_with_two_submission_sets():
    second = samples.make_submission_set(id="SubmissionSet02", unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1011")
    issues = validate(samples.submission(then=lambda s: s.with_changes(submission_sets=s.submission_sets + (second,))))
    single(issues, METADATA, "found 2", "SubmissionSet02")


def test_unclassified_registry_package():
    issues = validate(samples.submission(then=lambda s: s.with_changes(unclassified_packages=("Package01",))))
    assert single(issues, METADATA, "RegistryPackage Package01", "neither").location == "Package01"


def test_duplicate_ids():
    issues = validate(samples.submission(associations=lambda assocs: tuple(
        a.with_changes(id="SsDoc01") if a.id == "SsFolder01" else a for a in assocs)))
    single(issues, METADATA, "'SsDoc01'", "2 objects")


def test_duplicate_unique_id_in_register():
    issues = validate(samples.submission(doc2=lambda d: d.with_changes(unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1000")))
    issue = single(issues, ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, "1.3.6.1.4.1.21367.2005.3.99.1.1000",
                   "Document01, Document02")
    assert issue.location == "1.3.6.1.4.1.21367.2005.3.99.1.1000"


def test_duplicate_unique_id_in_provide_and_register():
    submission, context = samples.provide_and_register(
        doc2=lambda d: d.with_changes(unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1000"))
    single(validate(submission, context), ErrorCode.REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, "Document02")


def test_duplicate_unique_id_across_kinds():
    ss_unique_id = samples.make_submission_set().unique_id
    issues = validate(samples.submission(folder=lambda f: f.with_changes(unique_id=ss_unique_id)))
    single(issues, ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, "SubmissionSet01, Folder01")


def test_versions_in_a_query_response_share_a_unique_id():
    submission = samples.as_registry_metadata(samples.submission(
        doc2=lambda d: d.with_changes(unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1000")))
    assert validate(submission, ValidationContext(Transaction.QUERY_RESPONSE)) == []


@pytest.mark.parametrize("association_id, name", [
    ("SsDoc02", "DocumentEntry Document02"), ("SsFolder01", "Folder Folder01"),
])
def test_object_not_member_of_submission_set(association_id, name):
    issues = validate(samples.submission(associations=with_associations(drop=(association_id,))))
    single(issues, METADATA, name, "not a member of SubmissionSet SubmissionSet01")


def test_document_without_document_part():
    submission, context = samples.provide_and_register(documents=frozenset({samples.DOCUMENT_1}))
    issue = single(validate(submission, context), ErrorCode.MISSING_DOCUMENT, "DocumentEntry Document02", "no document")
    assert issue.location == samples.DOCUMENT_2


def test_document_part_without_document_entry():
    submission, context = samples.provide_and_register(
        documents=frozenset({samples.DOCUMENT_1, samples.DOCUMENT_2, "Document03"}))
    issue = single(validate(submission, context), ErrorCode.MISSING_DOCUMENT_METADATA, "Document03")
    assert issue.location == "Document03"


def test_register_does_not_look_for_documents():
    assert validate(samples.submission(), samples.register(documents_attached=frozenset({"Document09"}))) == []


# --- associations -------------------------------------------------------------------------------

def add(*associations):
    return samples.submission(associations=with_associations(*associations))


@pytest.mark.parametrize("kind", [AssociationType.REPLACE, AssociationType.TRANSFORM, AssociationType.APPEND,
                                  AssociationType.TRANSFORM_AND_REPLACE, AssociationType.SIGNS,
                                  AssociationType.IS_SNAPSHOT_OF])
def test_document_relationship_to_existing_document_passes(kind):
    assert validate(add(samples.relationship("Rel01", kind))) == []


def test_signs_may_target_a_document_of_the_same_submission():
    assert validate(add(samples.relationship("Sig01", AssociationType.SIGNS, target=samples.DOCUMENT_2))) == []


@pytest.mark.parametrize("kind, fragment", [("urn:example:Related", "'urn:example:Related'"), ("RPLC", "'RPLC'")])
def test_unknown_association_type(kind, fragment):
    issues = validate(add(samples.relationship("Rel01", kind)))
    single(issues, METADATA, "Association Rel01", "associationType", fragment)


def test_update_only_association_type_outside_update():
    issues = validate(add(Association(id="Upd01", association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
                                              source=samples.SUBMISSION_SET, target=EXISTING)))
    single(issues, METADATA, "Association Upd01", "UpdateAvailabilityStatus", "ITI-57")


def test_update_only_association_type_in_update():
    submission = add(Association(id="Upd01", association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
                                         source=samples.SUBMISSION_SET, target=EXISTING))
    assert validate(submission, ValidationContext(Transaction.UPDATE)) == []


@pytest.mark.parametrize("end, association", [
    ("targetObject", samples.relationship("Rel01", AssociationType.REPLACE, target="Document99")),
    ("sourceObject", samples.relationship("Rel01", AssociationType.SIGNS, source="", target=EXISTING)),
])
def test_association_reference_does_not_resolve(end, association):
    matching(validate(add(association)), METADATA, "Association Rel01", end)


def test_has_member_to_submission_set():
    issues = validate(add(samples.has_member("Self01", samples.SUBMISSION_SET, samples.SUBMISSION_SET)))
    single(issues, METADATA, "Association Self01", "is a SubmissionSet")


def test_has_member_from_document_entry():
    issues = validate(add(samples.has_member("Bad01", samples.DOCUMENT_1, samples.DOCUMENT_2),
                          samples.has_member("SsBad01", samples.SUBMISSION_SET, "Bad01")))
    single(issues, METADATA, "Association Bad01", "HasMember source Document01", "DocumentEntry")


def test_has_member_from_folder_to_association():
    issues = validate(add(samples.has_member("Bad01", samples.FOLDER, "SsDoc01"),
                          samples.has_member("SsBad01", samples.SUBMISSION_SET, "Bad01")))
    single(issues, METADATA, "Association Bad01", "from Folder Folder01 to Association SsDoc01")


@pytest.mark.parametrize("status, fragment", [(None, "is missing"), ("Reference", "is 'Reference'")])
def test_submission_set_status_of_new_document(status, fragment):
    issues = validate(samples.submission(associations=lambda assocs: tuple(
        a.with_changes(submission_set_status=status) if a.id == "SsDoc01" else a for a in assocs)))
    single(issues, METADATA, "Association SsDoc01", "SubmissionSetStatus", fragment, "Document01")


def test_submission_set_status_unknown_value():
    issues = validate(samples.submission(associations=lambda assocs: tuple(
        a.with_changes(submission_set_status="Duplicate") if a.id == "SsDoc01" else a for a in assocs)))
    single(issues, METADATA, "SubmissionSetStatus 'Duplicate'", "Original or Reference")


def test_submission_set_status_original_for_existing_document():
    issues = validate(add(samples.has_member("SsOld01", samples.SUBMISSION_SET, EXISTING, "Original")))
    single(issues, METADATA, "Association SsOld01", "'Original'", EXISTING, "Reference")


def test_submission_set_status_reference_for_existing_document():
    assert validate(add(samples.has_member("SsOld01", samples.SUBMISSION_SET, EXISTING, "Reference"))) == []


def test_folder_membership_not_in_submission_set():
    issues = validate(samples.submission(associations=with_associations(drop=("SsFolderDoc01",))))
    single(issues, METADATA, "Association FolderDoc01", "not a member of SubmissionSet SubmissionSet01")


def test_adding_an_existing_document_to_an_existing_folder():
    existing_folder = "urn:uuid:5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    assert validate(add(samples.has_member("FolderOld01", existing_folder, EXISTING),
                        samples.has_member("SsFolderOld01", samples.SUBMISSION_SET, "FolderOld01"))) == []


@pytest.mark.parametrize("source, fragment", [(samples.FOLDER, "'Folder01'"), (EXISTING, EXISTING)])
def test_relationship_source_is_a_new_document_entry(source, fragment):
    issues = validate(add(samples.relationship("Rel01", AssociationType.REPLACE, source=source)))
    single(issues, METADATA, "Association Rel01", "RPLC source", fragment)


def test_update_may_relate_existing_documents():
    submission = add(samples.relationship("Rel01", AssociationType.APPEND, source=OTHER_UUID))
    assert validate(submission, ValidationContext(Transaction.UPDATE)) == []


def test_relationship_target_is_an_existing_document():
    issues = validate(add(samples.relationship("Rel01", AssociationType.APPEND, target=samples.DOCUMENT_2)))
    single(issues, METADATA, "Association Rel01", "APND target 'Document02'", "existing DocumentEntry")


# --- whole-profile behaviour ---------------------------------------------------------------------

def test_all_issues_are_collected():
    issues = validate(samples.submission(
        doc=lambda d: d.with_changes(creation_time="2005122", hash="abc"),
        doc2=lambda d: d.with_changes(patient_id=samples.OTHER_PATIENT_ID),
    ))
    assert sorted(i.code for i in issues) == sorted([METADATA, METADATA, ErrorCode.PATIENT_ID_DOES_NOT_MATCH])


def test_status_given_by_a_source_is_ignored():
    """ITI TF-3 4.2.3.2.2: availabilityStatus in a submission request is ignored by the recipient."""
    submission = samples.submission(doc=lambda d: d.with_changes(status=AvailabilityStatus.DEPRECATED))
    assert validate(submission) == []
