"""Stored-query table (ITI TF-2 3.18.4.1.2.3.7, 3.51.4.1.2) and value syntax (3.18.4.1.2.3.5)."""
import re
from pathlib import Path

import pytest

from profiles.stored_queries import (
    METADATA_UPDATE, STORED_QUERIES, ValueKind, by_id, by_name, parse_code, parse_param_values,
)  # fmt: skip

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
README = SHARED / "ihe" / "README.md"
NIST = SHARED / "conformance" / "nist"

ITI18 = [
    "FindDocuments", "FindSubmissionSets", "FindFolders", "GetAll", "GetDocuments", "GetFolders",
    "GetAssociations", "GetDocumentsAndAssociations", "GetSubmissionSets", "GetSubmissionSetAndContents",
    "GetFolderAndContents", "GetFoldersForDocument", "GetRelatedDocuments", "FindDocumentsByReferenceId",
]  # fmt: skip
ITI51 = ["FindDocumentsForMultiplePatients", "FindFoldersForMultiplePatients"]

# Parameters of the base TF-2 tables (without the Metadata Update supplement).
BASE_COUNTS = {
    "FindDocuments": 17, "FindSubmissionSets": 7, "FindFolders": 5, "GetAll": 7, "GetDocuments": 2,
    "GetFolders": 2, "GetAssociations": 1, "GetDocumentsAndAssociations": 2, "GetSubmissionSets": 1,
    "GetSubmissionSetAndContents": 5, "GetFolderAndContents": 5, "GetFoldersForDocument": 2,
    "GetRelatedDocuments": 4, "FindDocumentsByReferenceId": 18,
    "FindDocumentsForMultiplePatients": 17, "FindFoldersForMultiplePatients": 5,
}  # fmt: skip

AND_OR = {
    "$XDSDocumentEntryEventCodeList", "$XDSDocumentEntryConfidentialityCode", "$XDSFolderCodeList",
    "$XDSDocumentEntryReferenceIdList",
}  # fmt: skip


# --- the table ---------------------------------------------------------------------------------

def test_all_queries_present_once():
    assert sorted(q.name for q in STORED_QUERIES) == sorted(ITI18 + ITI51)
    assert len({q.id for q in STORED_QUERIES}) == len(STORED_QUERIES)


def test_transactions():
    assert {q.name for q in STORED_QUERIES if q.transaction == "ITI-51"} == set(ITI51)
    assert {q.name for q in STORED_QUERIES if q.transaction == "ITI-18"} == set(ITI18)


def _readme_ids() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    ids = dict(re.findall(r"^\| (\w+) \| `(urn:uuid:[0-9a-f-]+)` \|$", text, re.MULTILINE))
    ids.update(re.findall(r"(\w+MultiplePatients) `(urn:uuid:[0-9a-f-]+)`", text))
    return ids


@pytest.mark.skipif(not README.exists(), reason="shared IHE README not available")
def test_ids_match_the_shared_readme():
    ids = _readme_ids()
    assert set(ids) == set(ITI18 + ITI51)
    for name, query_id in ids.items():
        assert by_name(name).id == query_id
        assert by_id(query_id).name == name


def test_lookup():
    assert by_name("GetDocuments").id == "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    assert by_id("URN:UUID:5C4F972B-D56B-40AC-A5FC-C8CA9B40B9D4").name == "GetDocuments"
    assert by_id("urn:uuid:00000000-0000-0000-0000-000000000000") is None
    assert by_name("FindEverything") is None


@pytest.mark.parametrize("name", list(BASE_COUNTS))
def test_parameter_counts(name):
    query = by_name(name)
    assert sum(1 for p in query.params if not p.supplement) == BASE_COUNTS[name]
    assert len(query.param_names) == len(query.params)


def test_parameter_names_are_wire_names():
    for query in STORED_QUERIES:
        for param in query.params:
            assert re.fullmatch(r"\$[A-Za-z]+", param.name), param.name


def test_only_the_and_or_parameters_are_repeatable():
    repeatable = {p.name for q in STORED_QUERIES for p in q.params if p.repeatable}
    assert repeatable == AND_OR
    assert all(p.multiple for q in STORED_QUERIES for p in q.params if p.repeatable)


def test_one_of_groups_are_optional_parameters_of_their_query():
    for query in STORED_QUERIES:
        for group in query.one_of + query.at_least_one_of:
            assert len(group) >= 2
            for name in group:
                assert query.param(name) is not None and not query.param(name).required


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("GetDocuments",
         {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId", "$XDSDocumentEntryLogicalID"}),
        ("GetFolders", {"$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID"}),
        ("GetDocumentsAndAssociations", {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}),
        ("GetSubmissionSetAndContents", {"$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"}),
        ("GetFolderAndContents", {"$XDSFolderEntryUUID", "$XDSFolderUniqueId"}),
        ("GetFoldersForDocument", {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}),
        ("GetRelatedDocuments", {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}),
    ],
)
def test_exactly_one_of(name, group):
    assert [set(g) for g in by_name(name).one_of] == [group]


@pytest.mark.parametrize(
    ("name", "required"),
    [
        ("FindDocuments", {"$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus"}),
        ("FindSubmissionSets", {"$XDSSubmissionSetPatientId", "$XDSSubmissionSetStatus"}),
        ("FindFolders", {"$XDSFolderPatientId", "$XDSFolderStatus"}),
        ("GetAll", {"$patientId", "$XDSDocumentEntryStatus", "$XDSSubmissionSetStatus", "$XDSFolderStatus"}),
        ("GetDocuments", set()),
        ("GetAssociations", {"$uuid"}),
        ("GetSubmissionSets", {"$uuid"}),
        ("GetRelatedDocuments", {"$AssociationTypes"}),
        ("FindDocumentsByReferenceId",
         {"$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus", "$XDSDocumentEntryReferenceIdList"}),
        ("FindDocumentsForMultiplePatients", {"$XDSDocumentEntryStatus"}),
        ("FindFoldersForMultiplePatients", {"$XDSFolderCodeList", "$XDSFolderStatus"}),
    ],
)  # fmt: skip
def test_required_parameters(name, required):
    assert {p.name for p in by_name(name).required_params} == required


def test_single_valued_parameters():
    find = by_name("FindDocuments")
    assert not find.param("$XDSDocumentEntryPatientId").multiple
    assert not find.param("$XDSDocumentEntryCreationTimeFrom").multiple
    assert find.param("$XDSDocumentEntryClassCode").multiple
    assert not by_name("GetSubmissionSetAndContents").param("$XDSSubmissionSetUniqueId").multiple
    assert not by_name("FindSubmissionSets").param("$XDSSubmissionSetAuthorPerson").multiple


def test_multi_patient_queries_take_a_patient_list():
    for name, patient in [("FindDocumentsForMultiplePatients", "$XDSDocumentEntryPatientId"),
                          ("FindFoldersForMultiplePatients", "$XDSFolderPatientId")]:
        param = by_name(name).param(patient)
        assert param.multiple and not param.required and param.kind is ValueKind.PATIENT_ID


def test_reference_id_query_extends_find_documents():
    extra = by_name("FindDocumentsByReferenceId").param_names - by_name("FindDocuments").param_names
    assert extra == {"$XDSDocumentEntryReferenceIdList"}


def test_kinds():
    find = by_name("FindDocuments")
    assert find.param("$XDSDocumentEntryPatientId").kind is ValueKind.PATIENT_ID
    assert find.param("$XDSDocumentEntryServiceStopTimeTo").kind is ValueKind.TIME
    assert find.param("$XDSDocumentEntryStatus").kind is ValueKind.STATUS
    assert find.param("$XDSDocumentEntryType").kind is ValueKind.ENTRY_TYPE
    assert by_name("GetDocuments").param("$XDSDocumentEntryUniqueId").kind is ValueKind.UNIQUE_ID
    assert by_name("GetRelatedDocuments").param("$AssociationTypes").kind is ValueKind.ASSOCIATION_TYPE


def test_metadata_update_parameters_are_marked():
    level = by_name("GetDocuments").param("$MetadataLevel")
    assert level.supplement == METADATA_UPDATE and level.kind is ValueKind.NUMBER
    assert all(q.param("$MetadataLevel") for q in STORED_QUERIES if q.transaction == "ITI-18")


def test_queries_by_id_use_home():
    by_object_id = {n for n in ITI18 if n.startswith("Get") and n != "GetAll"}
    assert {q.name for q in STORED_QUERIES if q.uses_home} == by_object_id


_ADHOC_QUERY = re.compile(r"AdhocQuery\b[^>]*\bid=\"([^\"]+)\"(.*?)</(?:\w+:)?AdhocQuery>", re.S)


def _conformance_queries():
    for path in sorted(NIST.glob("*/**/*.xml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _ADHOC_QUERY.finditer(text):
            yield path, match.group(1), match.group(2)


@pytest.mark.skipif(not NIST.exists(), reason="shared conformance data not available")
def test_conformance_queries_use_known_parameters_and_valid_values():
    seen = 0
    for path, query_id, body in _conformance_queries():
        query = by_id(query_id)
        assert query is not None, (path, query_id)
        for slot, values in re.findall(r"Slot name=\"([^\"]+)\">(.*?)</(?:\w+:)?Slot>", body, re.S):
            assert query.param(slot) is not None, (path, query.name, slot)
            parsed = parse_param_values(re.findall(r"<(?:\w+:)?Value>(.*?)</(?:\w+:)?Value>", values, re.S))
            assert parsed, (path, slot)
            seen += 1
    assert seen > 50


# --- value syntax ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["'single'"], ["single"]),
        (["('a','b')"], ["a", "b"]),
        (["( 'a' , 'b' )"], ["a", "b"]),
        (["('only')"], ["only"]),
        (["200412"], ["200412"]),
        (["'200412'"], ["200412"]),
        (["(1, 2)"], ["1", "2"]),
        (["'Children''s Hospital'"], ["Children's Hospital"]),
        (["('O''Brien','x')"], ["O'Brien", "x"]),
        (["''''"], ["'"]),
        (["''"], [""]),
        (["('a,b','c)')"], ["a,b", "c)"]),
        (["('a')", "('b','c')"], ["a", "b", "c"]),
        (["  'padded'  "], ["padded"]),
        (["'%Smith%'"], ["%Smith%"]),
        (["('13116900216^^^&2.16.578.1.12.4.1.4.1&ISO')"], ["13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"]),
    ],
)
def test_parse_param_values(raw, expected):
    assert parse_param_values(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "has no values"),
        ([""], "empty value"),
        (["abc"], "number or text in single quotes"),
        (["'abc"], "missing its closing single quote"),
        (["'it's'"], "unexpected text after the value"),
        (["'a' 'b'"], "unexpected text after the value"),
        (["('a'"], "a list needs ','"),
        (["('a' 'b')"], "a list needs ','"),
        (["()"], "number or text in single quotes"),
        (["('a',)"], "number or text in single quotes"),
        (["(,'a')"], "number or text in single quotes"),
        (["('a'))"], "after the closing"),
        (["('a') x"], "after the closing"),
        (["-1"], "number or text in single quotes"),
        (["('a')", "bad"], "number or text in single quotes"),
    ],
)
def test_parse_param_values_rejects(raw, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_param_values(raw)


def test_error_names_the_bad_value():
    with pytest.raises(ValueError, match=re.escape("invalid parameter value \"('a' 'b')\"")):
        parse_param_values(["('ok')", "('a' 'b')"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("225728007^^2.16.840.1.113883.6.96", ("225728007", "2.16.840.1.113883.6.96")),
        ("R^^2.16.840.1.113883.5.25", ("R", "2.16.840.1.113883.5.25")),
        ("urn:ihe:pcc:aps:2007^^1.3.6.1.4.1.19376.1.2.3",
         ("urn:ihe:pcc:aps:2007", "1.3.6.1.4.1.19376.1.2.3")),
        ("A00.1^Display is ignored^2.16.578.1.12.4.1.1.7110", ("A00.1", "2.16.578.1.12.4.1.1.7110")),
        (r"a\S\b^^s", ("a^b", "s")),
    ],
)
def test_parse_code(value, expected):
    assert parse_code(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("code", "expected code^^scheme"),
        ("code^scheme", "expected code^^scheme"),
        ("a^^b^c", "expected code^^scheme"),
        ("^^scheme", "the code is missing"),
        ("code^^", "the coding scheme is missing"),
    ],
)
def test_parse_code_rejects(value, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_code(value)
