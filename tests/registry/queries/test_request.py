"""Decoding query:AdhocQueryRequest (ITI TF-2 3.18.4.1.2.3): each problem gives its error code.

Pure decoding (no database), plus the NIST toolkit's ITI-18/38/51 request bodies.
"""
from __future__ import annotations

import json

import pytest
from lxml import etree

from profiles.errors import ErrorCode, Severity
from profiles.stored_queries import STORED_QUERIES, by_name
from registry.queries.request import ReturnType, decode_request
from tests.profiles.xml_support import NIST, parse_file

from .support import APPROVED, DEPRECATED, ON_DEMAND, STABLE, Slots, q, ql, request

PID = "$XDSDocumentEntryPatientId"
STATUS = "$XDSDocumentEntryStatus"
PATIENT = "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"
FIND = {PID: q(PATIENT), STATUS: ql(APPROVED)}


def _codes(query: str, return_type="LeafClass", transaction="ITI-18", **params) -> list[str]:
    decoded, issues = decode_request(request(query, return_type, **params), transaction)
    return [str(i.code) for i in issues if i.is_error]


def _decoded(query: str, **params):
    decoded, issues = decode_request(request(query, **params))
    assert decoded is not None, issues
    return decoded


def test_find_documents_decodes_into_typed_values():
    query = _decoded("FindDocuments", **FIND, **{
        "$XDSDocumentEntryClassCode": ql("A^^s1", "B^^s2"),
        "$XDSDocumentEntryCreationTimeFrom": "20040101",
        "$XDSDocumentEntryCreationTimeTo": q("2005"),
        "$XDSDocumentEntryEventCodeList": Slots(ql("e1^^s"), ql("e2^^s", "e3^^s")),
        "$XDSDocumentEntryAuthorPerson": ql("%Smith%"),
    })
    assert query.name == "FindDocuments" and query.return_type is ReturnType.LEAF_CLASS
    assert query.one(PID) == PATIENT and query.any_of(STATUS) == (APPROVED,)
    assert query.any_of("$XDSDocumentEntryClassCode") == (("A", "s1"), ("B", "s2"))
    assert query.one("$XDSDocumentEntryCreationTimeFrom") == "20040101"
    assert query.one("$XDSDocumentEntryCreationTimeTo") == "2005"
    assert query.all_of("$XDSDocumentEntryEventCodeList") == ((("e1", "s"),), (("e2", "s"), ("e3", "s")))
    assert query.any_of("$XDSDocumentEntryAuthorPerson") == ("%Smith%",)
    assert query.any_of("$XDSDocumentEntryTypeCode") is None and query.all_of("$XDSDocumentEntryTypeCode") == ()


def test_several_values_elements_in_one_slot_are_one_or_list():
    query = _decoded("FindDocuments", **{PID: q(PATIENT), STATUS: (ql(APPROVED), q(DEPRECATED))})
    assert query.any_of(STATUS) == (APPROVED, DEPRECATED)
    assert query.all_of(STATUS) == ((APPROVED, DEPRECATED),)


def test_object_ref_return_type_and_home_attribute():
    decoded, issues = decode_request(request("GetDocuments", "ObjectRef", home="urn:oid:1.2.3",
                                             **{"$XDSDocumentEntryUniqueId": ql("1.2")}))
    assert issues == [] and decoded.return_type is ReturnType.OBJECT_REF and decoded.home == "urn:oid:1.2.3"
    assert not decoded.leaf_class


def test_query_ids_compare_case_insensitively():
    element = request("FindDocuments", **FIND)
    adhoc = element.find("{*}AdhocQuery")
    adhoc.set("id", adhoc.get("id").upper().replace("URN:UUID:", "urn:uuid:"))
    decoded, issues = decode_request(element)
    assert decoded is not None and decoded.name == "FindDocuments"


@pytest.mark.parametrize("return_type", ["RegistryObject", "LeafClassWithRepositoryItem", "leafclass", None])
def test_unsupported_return_type_is_a_registry_error(return_type):
    assert _codes("FindDocuments", return_type, **FIND) == [ErrorCode.REGISTRY_ERROR]


def test_missing_response_option_and_adhoc_query_are_registry_errors():
    element = request("FindDocuments", **FIND)
    element.remove(element.find("{*}ResponseOption"))
    assert [str(i.code) for i in decode_request(element)[1]] == [ErrorCode.REGISTRY_ERROR]
    element.remove(element.find("{*}AdhocQuery"))
    decoded, issues = decode_request(element)
    assert decoded is None and [str(i.code) for i in issues] == [ErrorCode.REGISTRY_ERROR] * 2


def test_not_an_adhoc_query_request_is_a_registry_error():
    decoded, issues = decode_request(etree.Element("{urn:x}Other"))
    assert decoded is None and [i.code for i in issues] == [ErrorCode.REGISTRY_ERROR]


@pytest.mark.parametrize("query_id", ["urn:uuid:00000000-0000-0000-0000-000000000000", "FindDocuments", ""])
def test_unknown_query_id(query_id):
    element = request("FindDocuments", **FIND)
    adhoc = element.find("{*}AdhocQuery")
    if query_id:
        adhoc.set("id", query_id)  # a name is not an id
    else:
        del adhoc.attrib["id"]
    decoded, issues = decode_request(element)
    assert decoded is None and [i.code for i in issues] == [ErrorCode.UNKNOWN_STORED_QUERY]


def test_queries_of_the_other_transaction_are_unknown():
    multi = {"$XDSDocumentEntryClassCode": ql("A^^s"), STATUS: ql(APPROVED)}
    assert _codes("FindDocumentsForMultiplePatients", **multi) == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert _codes("FindDocumentsForMultiplePatients", transaction="ITI-51", **multi) == []
    assert _codes("FindDocuments", transaction="ITI-51", **FIND) == [ErrorCode.UNKNOWN_STORED_QUERY]


@pytest.mark.parametrize("definition", [d for d in STORED_QUERIES if d.required_params], ids=lambda d: d.name)
def test_each_required_parameter_missing(definition):
    for missing in definition.required_params:
        params = {p.name: _valid_value(p) for p in definition.required_params if p is not missing}
        for group in (*definition.one_of, *definition.at_least_one_of):
            params.setdefault(group[0], _valid_value(definition.param(group[0])))
        codes = _codes(definition.name, transaction=definition.transaction, **params)
        assert codes == [ErrorCode.STORED_QUERY_MISSING_PARAM], (missing.name, codes)


def _valid_value(param) -> str:
    from profiles.stored_queries import ValueKind as K
    return {
        K.PATIENT_ID: q(PATIENT), K.STATUS: ql(APPROVED), K.CODE: ql("c^^s"), K.UUID: ql("urn:uuid:1"),
        K.UNIQUE_ID: ql("1.2"), K.ASSOCIATION_TYPE: ql("urn:ihe:iti:2007:AssociationType:RPLC"),
        K.REFERENCE_ID: ql("r^^^^urn:ihe:iti:xds:2013:accession"), K.TIME: "2004", K.ENTRY_TYPE: ql(STABLE),
        K.AUTHOR: q("%"), K.OID: ql("1.2"), K.NUMBER: "1",
    }[param.kind]


@pytest.mark.parametrize("query, pair", [
    ("GetDocuments", ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId")),
    ("GetFolders", ("$XDSFolderEntryUUID", "$XDSFolderUniqueId")),
    ("GetDocumentsAndAssociations", ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId")),
    ("GetSubmissionSetAndContents", ("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId")),
    ("GetFolderAndContents", ("$XDSFolderEntryUUID", "$XDSFolderUniqueId")),
    ("GetFoldersForDocument", ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId")),
    ("GetRelatedDocuments", ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId")),
])
def test_either_uuid_or_unique_id(query, pair):
    extra = {"$AssociationTypes": ql("urn:ihe:iti:2007:AssociationType:RPLC")} \
        if query == "GetRelatedDocuments" else {}
    assert _codes(query, **extra) == [ErrorCode.STORED_QUERY_MISSING_PARAM]
    assert _codes(query, **extra, **{pair[0]: q("urn:uuid:1"), pair[1]: q("1.2")}) == \
        [ErrorCode.STORED_QUERY_PARAM_NUMBER]
    assert _codes(query, **extra, **{pair[0]: q("urn:uuid:1")}) == []
    assert _codes(query, **extra, **{pair[1]: q("1.2")}) == []


def test_logical_id_is_a_third_way_to_name_documents():
    assert _codes("GetDocuments", **{"$XDSDocumentEntryLogicalID": ql("urn:uuid:1")}) == []
    assert _codes("GetDocuments", **{"$XDSDocumentEntryLogicalID": ql("urn:uuid:1"),
                                     "$XDSDocumentEntryUniqueId": ql("1.2")}) == [
        ErrorCode.STORED_QUERY_PARAM_NUMBER]


@pytest.mark.parametrize("name, value", [
    (PID, ql(PATIENT, "other^^^&1.2&ISO")),
    ("$XDSDocumentEntryCreationTimeFrom", "(2004, 2005)"),
    ("$XDSSubmissionSetAuthorPerson", ql("%a%", "%b%")),
])
def test_several_values_for_a_single_valued_parameter(name, value):
    query = "FindSubmissionSets" if name.startswith("$XDSSubmissionSet") else "FindDocuments"
    base = {"$XDSSubmissionSetPatientId": q(PATIENT), "$XDSSubmissionSetStatus": ql(APPROVED)} \
        if query == "FindSubmissionSets" else dict(FIND)
    base[name] = value
    assert _codes(query, **base) == [ErrorCode.STORED_QUERY_PARAM_NUMBER]


def test_a_single_value_in_list_syntax_is_accepted():
    assert _decoded("FindDocuments", **{PID: ql(PATIENT), STATUS: ql(APPROVED)}).one(PID) == PATIENT


def test_a_list_parameter_given_as_one_quoted_value_is_accepted():
    assert _decoded("FindDocuments", **{PID: q(PATIENT), STATUS: q(APPROVED)}).any_of(STATUS) == (APPROVED,)


def test_repeated_slots_only_where_and_semantics_are_defined():
    assert _codes("FindDocuments", **FIND, **{"$XDSDocumentEntryClassCode": Slots(ql("a^^s"), ql("b^^s"))}) \
        == [ErrorCode.STORED_QUERY_PARAM_NUMBER]
    assert _codes("FindDocuments", **{PID: Slots(q(PATIENT), q(PATIENT)), STATUS: ql(APPROVED)}) == [
        ErrorCode.STORED_QUERY_PARAM_NUMBER]
    for name in ("$XDSDocumentEntryEventCodeList", "$XDSDocumentEntryConfidentialityCode"):
        assert _codes("FindDocuments", **FIND, **{name: Slots(ql("a^^s"), ql("b^^s"))}) == []
    assert _codes("FindFolders", **{"$XDSFolderPatientId": q(PATIENT), "$XDSFolderStatus": ql(APPROVED),
                                    "$XDSFolderCodeList": Slots(ql("a^^s"), ql("b^^s"))}) == []
    assert _codes("FindDocumentsByReferenceId", **FIND, **{
        "$XDSDocumentEntryReferenceIdList": Slots(ql("r1"), ql("r2"))}) == []
    assert _codes("GetAll", **{"$patientId": q(PATIENT), STATUS: ql(APPROVED),
                               "$XDSSubmissionSetStatus": ql(APPROVED), "$XDSFolderStatus": ql(APPROVED),
                               "$XDSDocumentEntryConfidentialityCode": Slots(ql("a^^s"), ql("b^^s"))}) == []


@pytest.mark.parametrize("name, value", [
    (PID, PATIENT),  # not quoted
    (STATUS, "('urn:a', )"),
    (STATUS, "('unterminated)"),
    (STATUS, ""),
    ("$XDSDocumentEntryClassCode", ql("no-scheme")),
    ("$XDSDocumentEntryClassCode", ql("^^scheme-only")),
    ("$XDSDocumentEntryCreationTimeFrom", "2004131"),
    ("$XDSDocumentEntryCreationTimeTo", q("20041332")),
    ("$XDSDocumentEntryType", ql("urn:uuid:00000000-0000-0000-0000-000000000000")),
    ("$MetadataLevel", "3"),
])
def test_badly_coded_values_are_registry_errors(name, value):
    assert _codes("FindDocuments", **{**FIND, name: value}) == [ErrorCode.REGISTRY_ERROR]


def test_a_slot_without_values_is_a_registry_error():
    element = request("FindDocuments", **FIND)
    adhoc = element.find("{*}AdhocQuery")
    etree.SubElement(adhoc, adhoc[0].tag, name="$XDSDocumentEntryClassCode")
    decoded, issues = decode_request(element)
    assert decoded is None and [i.code for i in issues] == [ErrorCode.REGISTRY_ERROR]


def test_all_problems_are_reported_together():
    codes = _codes("FindDocuments", **{"$XDSDocumentEntryClassCode": ql("bad"),
                                       "$XDSDocumentEntryCreationTimeFrom": "(1, 2)"})
    assert sorted(codes) == sorted([ErrorCode.REGISTRY_ERROR, ErrorCode.STORED_QUERY_PARAM_NUMBER,
                                    ErrorCode.STORED_QUERY_MISSING_PARAM, ErrorCode.STORED_QUERY_MISSING_PARAM])


def test_a_badly_coded_required_parameter_is_not_also_missing():
    assert _codes("FindDocuments", **{PID: PATIENT, STATUS: ql(APPROVED)}) == [ErrorCode.REGISTRY_ERROR]


def test_unknown_parameters_are_ignored_with_a_warning():
    decoded, issues = decode_request(request("FindDocuments", **FIND, **{"$XDSDocumentEntryTitle": q("x")}))
    assert decoded is not None and not decoded.has("$XDSDocumentEntryTitle")
    assert [(i.code, i.severity, i.location) for i in issues] == [
        (ErrorCode.REGISTRY_ERROR, Severity.WARNING, "$XDSDocumentEntryTitle")]


def test_short_status_and_association_type_forms_are_widened():
    query = _decoded("FindDocuments", **{PID: q(PATIENT), STATUS: ql("Approved", "Deprecated")})
    assert query.any_of(STATUS) == (APPROVED, DEPRECATED)
    related = _decoded("GetRelatedDocuments", **{"$XDSDocumentEntryEntryUUID": q("urn:uuid:1"),
                                                 "$AssociationTypes": ql("RPLC", "signs")})
    assert related.any_of("$AssociationTypes") == ("urn:ihe:iti:2007:AssociationType:RPLC",
                                                    "urn:ihe:iti:2007:AssociationType:signs")


def test_entry_types_and_metadata_level():
    query = _decoded("FindDocuments", **FIND, **{"$XDSDocumentEntryType": ql(STABLE, ON_DEMAND),
                                                 "$MetadataLevel": "2"})
    assert query.any_of("$XDSDocumentEntryType") == (STABLE, ON_DEMAND) and query.one("$MetadataLevel") == "2"


def test_quotes_inside_values():
    query = _decoded("FindDocuments", **FIND, **{"$XDSDocumentEntryAuthorPerson": ql("O'Brien%")})
    assert query.any_of("$XDSDocumentEntryAuthorPerson") == ("O'Brien%",)


def test_every_query_of_the_table_decodes():
    for definition in STORED_QUERIES:
        params = {p.name: _valid_value(p) for p in definition.required_params}
        for group in (*definition.one_of, *definition.at_least_one_of):
            params.setdefault(group[0], _valid_value(definition.param(group[0])))
        decoded, issues = decode_request(request(definition.name, **params), definition.transaction)
        assert decoded is not None and decoded.definition is by_name(definition.name), (definition.name, issues)


# --- the NIST XDS Toolkit request bodies ------------------------------------------------------

def _nist_query_bodies():
    if not NIST.exists():
        return []
    bodies = []
    for manifest in sorted(NIST.glob("*/manifest.json")):
        data = json.loads(manifest.read_text())
        for section in data["sections"]:
            for step in section["steps"]:
                if step.get("transaction") in ("ITI-18", "ITI-38", "ITI-51") and step.get("body"):
                    bodies.append((manifest.parent / step["body"], step["transaction"], step.get("expect", {})))
    return bodies


NIST_BODIES = _nist_query_bodies()


def test_nist_query_bodies_are_present():
    if not NIST.exists():
        pytest.skip(f"shared data not present: {NIST}")
    assert len(NIST_BODIES) == 93


@pytest.mark.parametrize("path, transaction, expect", NIST_BODIES,
                         ids=[str(p.relative_to(NIST)) for p, _, _ in NIST_BODIES])
def test_nist_query_bodies_decode(path, transaction, expect):
    """Every body names a known stored query; those expected to succeed decode without errors
    ($placeholders$ stand where the toolkit puts ids: they are well-formed text)."""
    decoded, issues = decode_request(parse_file(path), "ITI-51" if transaction == "ITI-51" else "ITI-18")
    assert ErrorCode.UNKNOWN_STORED_QUERY not in [i.code for i in issues]
    if expect.get("status") == "Success":
        assert decoded is not None and issues == [], issues
