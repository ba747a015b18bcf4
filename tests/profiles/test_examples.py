"""Real messages through the ebRIM codec: the IHE example messages and the NIST conformance
request bodies (../shared). Each metadata-bearing message decodes, re-encodes to XML that
validates against the IHE schemas, and decodes back to the same model.

Normalisations the re-encoding applies, so the XML differs from the example while the model
is equal: legacy short `associationType="HasMember"` becomes the full URN
(urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember); a top-level SubmissionSet node
Classification moves inside its RegistryPackage (same id); empty Description elements,
`isOpaque`, and objectType attributes of Classifications/ExternalIdentifiers are not modelled
and are written in canonical form.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from profiles.ebrim import (
    decode_provide_and_register,
    decode_registry_object_list,
    decode_submit_objects_request,
    encode_provide_and_register,
    encode_submit_objects_request,
)
from profiles.responses import adhoc_query_response, read_registry_response
from profiles.errors import Status
from profiles.vocabulary import LCM, QUERY, RIM, RMD, RS, XDSB, AssociationType

from .xml_support import IHE_EXAMPLES, NIST, assert_valid, body_of, parse_file, reparse, require, schema

EXAMPLE_FILES = sorted(IHE_EXAMPLES.glob("*/*.xml")) if IHE_EXAMPLES.exists() else []
SUBMIT = f"{{{LCM}}}SubmitObjectsRequest"
PROVIDE = f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest"
QUERY_RESPONSE = f"{{{QUERY}}}AdhocQueryResponse"

#: body root -> schema that validates it (README of ../shared/ihe)
BODY_SCHEMAS = {
    SUBMIT: "lcm",
    PROVIDE: "xdsb",
    QUERY_RESPONSE: "query",
    f"{{{QUERY}}}AdhocQueryRequest": "query",
    f"{{{RS}}}RegistryResponse": "rs",
    f"{{{XDSB}}}RetrieveDocumentSetRequest": "xdsb",
    f"{{{XDSB}}}RetrieveDocumentSetResponse": "xdsb",
    f"{{{LCM}}}RemoveObjectsRequest": "lcm",
    f"{{{RMD}}}RemoveDocumentsRequest": "rmd",
}


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def re_encode(body: etree._Element):
    """(decoded submission, issues, re-encoded body, decode of the re-encoding)."""
    if body.tag == PROVIDE:
        submission, documents, issues = decode_provide_and_register(body)
        contents = [(doc_id, doc.text or "") for doc_id, doc in documents.items()]
        encoded = encode_provide_and_register(submission, contents)
        again = decode_provide_and_register(reparse(encoded))[0]
    elif body.tag == QUERY_RESPONSE:
        submission, issues = decode_registry_object_list(body.find(f"{{{RIM}}}RegistryObjectList"))
        status, _ = read_registry_response(body)
        encoded = adhoc_query_response([], encode_objects(submission), status=status)
        again = decode_registry_object_list(reparse(encoded).find(f"{{{RIM}}}RegistryObjectList"))[0]
    else:
        submission, issues = decode_submit_objects_request(body)
        encoded = encode_submit_objects_request(submission)
        again = decode_submit_objects_request(reparse(encoded))[0]
    return submission, issues, encoded, again


def encode_objects(submission):
    from profiles.ebrim import canonical_bytes

    return [canonical_bytes(obj) for obj in (*submission.objects(), *submission.object_refs)]


# --- IHE example messages ---------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=example_id)
def test_every_example_parses_and_its_body_validates(path):
    body = body_of(parse_file(path))
    schema_name = BODY_SCHEMAS.get(body.tag)
    assert schema_name, f"no schema known for {body.tag}"
    assert_valid(body, schema_name)


METADATA_EXAMPLES = [
    "XDS.b/RegisterDocumentSet-bRequest.xml",
    "XDS.b/RegisterDocumentSet-bRequest_SOAP.xml",
    "XDS.b/ProvideAndRegisterDocumentSet-bRequest.xml",
    "XDS.b/ProvideAndRegisterDocumentSet-bRequest_SOAP.xml",
    "XDS.b/RegisterOnDemandDocumentEntryRequest_SOAP.xml",
    "XDS.b/RegistryStoredQueryResponse.xml",
    "XDS.b/RegistryStoredQueryResponse_SOAP.xml",
]


@pytest.mark.parametrize("name", METADATA_EXAMPLES)
def test_metadata_examples_round_trip_through_valid_xml(name):
    body = body_of(parse_file(require(IHE_EXAMPLES / name)))
    submission, issues, encoded, again = re_encode(body)
    assert issues == []
    assert_valid(encoded, BODY_SCHEMAS[encoded.tag])
    assert again == submission


def test_every_metadata_bearing_example_is_covered():
    bearing = {example_id(p) for p in EXAMPLE_FILES if body_of(parse_file(p)).tag in (SUBMIT, PROVIDE, QUERY_RESPONSE)}
    assert bearing == set(METADATA_EXAMPLES) or not EXAMPLE_FILES


def test_register_example_holds_the_expected_metadata():
    body = parse_file(require(IHE_EXAMPLES / "XDS.b" / "RegisterDocumentSet-bRequest.xml"))
    submission, _ = decode_submit_objects_request(body)
    entry, = submission.document_entries
    assert entry.unique_id == "1.3.6.1.4.1.21367.2005.3.9999.32"
    assert entry.class_code.code == "History and Physical"
    assert entry.authors[0].institutions == ("Cleveland Clinic", "Parma Community")
    submission_set = submission.submission_set
    assert (submission_set.id, submission_set.node_classification_id) == ("SubmissionSet01", "cl10")
    association, = submission.associations
    # the example uses the legacy short form; the model (and the re-encoding) the full URN
    assert association.association_type == AssociationType.HAS_MEMBER.value
    encoded = encode_submit_objects_request(submission)
    assert encoded.find(f".//{{{RIM}}}Association").get("associationType") == AssociationType.HAS_MEMBER.value


def test_on_demand_example_keeps_its_object_type():
    body = body_of(parse_file(require(IHE_EXAMPLES / "XDS.b" / "RegisterOnDemandDocumentEntryRequest_SOAP.xml")))
    entry = decode_submit_objects_request(body)[0].document_entries[0]
    assert not entry.is_stable


def test_query_response_example_has_one_entry_and_its_object_refs():
    body = parse_file(require(IHE_EXAMPLES / "XDS.b" / "RegistryStoredQueryResponse.xml"))
    status, issues = read_registry_response(body)
    submission, _ = decode_registry_object_list(body.find(f"{{{RIM}}}RegistryObjectList"))
    assert (status, issues) == (Status.SUCCESS, [])  # the example's short status="Success"
    assert len(submission.document_entries) == 1
    assert len(submission.object_refs) == 8
    entry = submission.document_entries[0]
    assert entry.name[0].lang == "en-us" and entry.name[0].charset == "UTF-8"
    assert [s.name for s in entry.extra_slots] == ["authorInstitution"]  # on the object, not an author


# --- NIST conformance request bodies --------------------------------------------------------


def nist_bodies(transactions: tuple[str, ...]) -> list[tuple[str, Path]]:
    bodies = []
    for manifest_path in sorted(NIST.glob("*/manifest.json")) if NIST.exists() else []:
        manifest = json.loads(manifest_path.read_text())
        for section in manifest["sections"]:
            for step in section["steps"]:
                if step.get("transaction") in transactions and step.get("body"):
                    body = manifest_path.parent / step["body"]
                    bodies.append((f"{manifest['test']}/{section['name']}/{step['id']}", body))
    return bodies


REGISTER_BODIES = nist_bodies(("ITI-42", "ITI-41"))
UPDATE_BODIES = nist_bodies(("ITI-57",))


@pytest.mark.parametrize("body_path", [b for _, b in REGISTER_BODIES], ids=[n for n, _ in REGISTER_BODIES])
def test_nist_register_bodies_decode_and_re_encode_to_valid_xml(body_path):
    body = parse_file(body_path)  # `$placeholder$` symbols in text are fine for decoding
    submission, issues, encoded, again = re_encode(body)
    assert not [i for i in issues if i.is_error], "\n".join(i.context for i in issues)
    assert_valid(encoded, BODY_SCHEMAS[encoded.tag])
    assert again == submission


@pytest.mark.parametrize("body_path", [b for _, b in UPDATE_BODIES], ids=[n for n, _ in UPDATE_BODIES])
def test_nist_update_bodies_decode_and_re_encode_to_valid_xml(body_path):
    submission, issues, encoded, again = re_encode(parse_file(body_path))
    assert not [i for i in issues if i.is_error], "\n".join(i.context for i in issues)
    assert_valid(encoded, "lcm")
    assert again == submission


def test_nist_register_bodies_are_present():
    require(NIST)
    assert len(REGISTER_BODIES) >= 80  # 78 ITI-42 and 10 ITI-41 bodies in the dev half
    assert schema("lcm") is not None
