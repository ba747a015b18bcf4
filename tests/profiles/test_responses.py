"""Registry responses (profiles.responses): RegistryErrorList, RegistryResponse,
AdhocQueryResponse from stored canonical bytes, and reading them back."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from profiles.ebrim import canonical_bytes
from profiles.errors import ErrorCode, Issue, Severity, Status
from profiles.model import Association, DocumentEntry, ObjectRef, SubmissionSet
from profiles.responses import (
    adhoc_query_response,
    read_registry_response,
    registry_error_list,
    registry_response,
)
from profiles.vocabulary import QUERY, RIM, RS

from . import strategies
from .xml_support import assert_valid, reparse

ERROR = Issue(ErrorCode.UNKNOWN_PATIENT_ID, "patientId 1^^^&1.2&ISO is not known", location="Doc1")
WARNING = Issue(ErrorCode.EXTRA_METADATA_NOT_SAVED, "slot urn:example:x not saved", Severity.WARNING)
OBJECTS = (
    DocumentEntry(id="urn:uuid:00000000-0000-0000-0000-000000000001", mime_type="text/xml", unique_id="1.2"),
    SubmissionSet(id="urn:uuid:00000000-0000-0000-0000-000000000002", unique_id="1.3"),
    Association(id="urn:uuid:00000000-0000-0000-0000-000000000003",
                source="urn:uuid:00000000-0000-0000-0000-000000000002",
                target="urn:uuid:00000000-0000-0000-0000-000000000001"),
    ObjectRef("urn:uuid:00000000-0000-0000-0000-000000000004"),
)


def errors_of(element):
    return element.findall(f"{{{RS}}}RegistryErrorList/{{{RS}}}RegistryError")


def test_registry_error_list_writes_every_issue_in_order():
    element = registry_error_list([ERROR, WARNING])
    assert_valid(element, "rs")
    assert element.get("highestSeverity") == Severity.ERROR
    first, second = list(element)
    assert dict(first.attrib) == {
        "codeContext": ERROR.context, "errorCode": "XDSUnknownPatientId",
        "severity": Severity.ERROR.value, "location": "Doc1"}
    assert "location" not in second.attrib
    assert registry_error_list([WARNING]).get("highestSeverity") == Severity.WARNING


def test_registry_response_with_errors_validates_and_fails():
    element = registry_response([ERROR, WARNING], request_id="urn:uuid:1")
    assert_valid(element, "rs")
    assert element.tag == f"{{{RS}}}RegistryResponse"
    assert element.get("status") == Status.FAILURE
    assert element.get("requestId") == "urn:uuid:1"
    assert len(errors_of(element)) == 2


def test_registry_response_with_warnings_only_succeeds():
    element = registry_response([WARNING])
    assert_valid(element, "rs")
    assert element.get("status") == Status.SUCCESS


def test_registry_response_without_issues_has_no_error_list():
    element = registry_response([])
    assert_valid(element, "rs")
    assert list(element) == []


def test_registry_response_explicit_status():
    element = registry_response([ERROR], status=Status.PARTIAL_SUCCESS)
    assert element.get("status") == Status.PARTIAL_SUCCESS
    assert_valid(element, "rs")


def test_adhoc_query_response_from_canonical_bytes_validates():
    element = adhoc_query_response([], [canonical_bytes(obj) for obj in OBJECTS])
    assert_valid(element, "query")
    assert element.tag == f"{{{QUERY}}}AdhocQueryResponse"
    assert element.get("status") == Status.SUCCESS
    object_list = element.find(f"{{{RIM}}}RegistryObjectList")
    assert [child.get("id") for child in object_list] == [obj.id for obj in OBJECTS]
    # one namespace declaration for the whole answer, not one per stored object
    assert etree.tostring(element).count(f'xmlns:rim="{RIM}"'.encode()) == 1


def test_adhoc_query_response_mixes_elements_and_bytes_in_order():
    from profiles.ebrim import encode_object

    items = [canonical_bytes(OBJECTS[0]), encode_object(OBJECTS[1]), canonical_bytes(OBJECTS[2]),
             canonical_bytes(OBJECTS[3])]
    element = adhoc_query_response([WARNING], items)
    assert_valid(element, "query")
    assert [c.get("id") for c in element.find(f"{{{RIM}}}RegistryObjectList")] == [o.id for o in OBJECTS]
    assert element.get("status") == Status.SUCCESS


def test_adhoc_query_response_status_from_issues_and_results():
    with_results = adhoc_query_response([ERROR], [canonical_bytes(OBJECTS[0])])
    without_results = adhoc_query_response([ERROR], [])
    assert with_results.get("status") == Status.PARTIAL_SUCCESS
    assert without_results.get("status") == Status.FAILURE
    assert_valid(without_results, "query")
    assert_valid(with_results, "query")


@pytest.mark.parametrize("hostile", [
    b'<!DOCTYPE x [<!ENTITY e "boom">]><rim:ObjectRef id="&e;"/>',
    b'<rim:ObjectRef id="&xxe;"/>',
])
def test_stored_bytes_cannot_carry_a_dtd_or_entities(hostile):
    with pytest.raises(etree.XMLSyntaxError):
        adhoc_query_response([], [hostile])


def test_read_registry_response_round_trips():
    status, issues = read_registry_response(reparse(registry_response([ERROR, WARNING])))
    assert status is Status.FAILURE
    assert issues == [ERROR, WARNING]


def test_read_adhoc_query_response():
    status, issues = read_registry_response(reparse(adhoc_query_response([ERROR], [canonical_bytes(OBJECTS[3])])))
    assert (status, issues) == (Status.PARTIAL_SUCCESS, [ERROR])


def test_read_short_forms_and_unknown_codes():
    element = etree.fromstring(
        f'<rs:RegistryResponse xmlns:rs="{RS}" status="Failure"><rs:RegistryErrorList>'
        '<rs:RegistryError errorCode="XDSSomethingNew" codeContext="c" severity="Warning"/>'
        '<rs:RegistryError errorCode="XDSRegistryError" codeContext="d"/>'
        "</rs:RegistryErrorList></rs:RegistryResponse>")
    status, issues = read_registry_response(element)
    assert status is Status.FAILURE
    assert issues == [Issue("XDSSomethingNew", "c", Severity.WARNING), Issue(ErrorCode.REGISTRY_ERROR, "d")]


def test_read_unknown_status_is_failure_with_an_issue():
    status, issues = read_registry_response(etree.fromstring(f'<rs:RegistryResponse xmlns:rs="{RS}" status="Maybe"/>'))
    assert status is Status.FAILURE
    assert issues[0].code is ErrorCode.REGISTRY_ERROR


issue = st.builds(
    Issue,
    code=st.sampled_from(list(ErrorCode)),
    context=strategies.text,
    severity=st.sampled_from(list(Severity)),
    location=st.one_of(st.just(""), strategies.object_id),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(issue, max_size=5), st.sampled_from([None, *Status]))
def test_any_issues_round_trip_and_validate(issues, status):
    element = registry_response(issues, status=status)
    assert_valid(element, "rs")
    read_status, read_issues = read_registry_response(reparse(element))
    assert read_issues == issues
    assert read_status == (status or (Status.FAILURE if any(i.is_error for i in issues) else Status.SUCCESS))
