"""A registry started with `--profile norway --patient-domain 2.16.578.1.12.4.1.4.1` over ITI-42
(the real `xdsno serve` over loopback): the plain IHE example submission is refused naming
every field to change, and accepted once those fields carry Norwegian values. With `strict =
false` the same example's Norwegian issues travel as warnings beside the IHE errors."""
from __future__ import annotations

import pytest
from lxml import etree

from profiles.ebrim import decode_submit_objects_request, encode_submit_objects_request
from profiles.errors import ErrorCode, Severity, Status
from profiles.responses import read_registry_response
from soap.client import SoapClient
from tests.profiles.norway import norway_samples as ns
from tests.profiles.norway.test_ihe_example import IHE_FIELDS, NORWEGIAN_FIELDS, field_named, fixed_for_iti42
from tests.profiles.xml_support import IHE_EXAMPLES, require
from tests.server import running_server

pytestmark = pytest.mark.integration

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
EXAMPLE = IHE_EXAMPLES / "XDS.b" / "RegisterDocumentSet-bRequest.xml"


def example_request() -> etree._Element:
    return etree.parse(str(require(EXAMPLE))).getroot()


def register(client: SoapClient, request: etree._Element):
    reply = client.call(REGISTER, request)
    assert reply.fault is None, reply.fault
    return read_registry_response(reply.body)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("norway-registry") / "data"
    args = ("--profile", "norway", "--patient-domain", "2.16.578.1.12.4.1.4.1", "--actor", "registry")
    with running_server(data_dir, *args) as server, SoapClient(server.url("/registry")) as client:
        yield client


def test_ihe_example_is_refused_naming_every_field_to_change(registry):
    status, issues = register(registry, example_request())
    assert status is Status.FAILURE
    assert {field_named(i) for i in issues} == NORWEGIAN_FIELDS | IHE_FIELDS
    by_field = {field_named(i): i for i in issues}
    assert by_field[("Document01", "classCode")].context == (
        "DocumentEntry Document01: classCode 'History and Physical' (codingScheme 'Connect-a-thon classCodes') "
        "is not in Volven 9602 (2.16.578.1.12.4.1.1.9602); use a class code such as A00-1 Epikriser og "
        "sammenfatninger")
    assert by_field[("SubmissionSet01", "patientId")].code == ErrorCode.UNKNOWN_PATIENT_ID
    assert by_field[("Document01", "classCode")].location == "Document01"


def test_ihe_example_is_accepted_after_the_changes(registry):
    submission, issues = decode_submit_objects_request(example_request())
    assert issues == []
    changed = ns.with_norwegian_values(fixed_for_iti42(submission))
    status, issues = register(registry, encode_submit_objects_request(changed))
    assert status is Status.SUCCESS, issues
    assert [i for i in issues if i.is_error] == []


def test_lenient_registry_reports_norwegian_fields_as_warnings(tmp_path):
    args = ("--profile", "norway", "--patient-domain", "2.16.578.1.12.4.1.4.1", "--actor", "registry")
    with running_server(tmp_path / "data", *args, env={"XDSNO_STRICT": "false"}) as server, \
            SoapClient(server.url("/registry")) as client:
        status, issues = register(client, example_request())
    assert status is Status.FAILURE  # the IHE errors (hash, size, ...) still refuse it
    warned = {field_named(i) for i in issues if i.severity is Severity.WARNING}
    assert NORWEGIAN_FIELDS <= warned
    assert {field_named(i) for i in issues if i.is_error} == IHE_FIELDS
