"""The harness's request rewriting: symbol replacement, the `assign` pass, XPath reports,
and the patients it hands out — on small hand-made bodies."""
from __future__ import annotations

import itertools

from lxml import etree

from scripts.conformance.identities import IdSource, Identity, TestPatients
from scripts.conformance.rewrite import (
    DOCUMENT_ENTRY_PATIENT_ID,
    DOCUMENT_ENTRY_UNIQUE_ID,
    SUBMISSION_SET_PATIENT_ID,
    SUBMISSION_SET_SOURCE_ID,
    SUBMISSION_SET_UNIQUE_ID,
    AssignSources,
    apply_assign,
    replace_in_text,
    replace_symbols,
    xpath_string,
)

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"

SUBMISSION = f"""
<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="{XDSB}">
 <lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:RegistryObjectList>
  <rim:ExtrinsicObject id="Doc1" mimeType="text/plain">
   <rim:Classification id="c1" classifiedObject="Doc1" classificationScheme="urn:uuid:x"/>
   <rim:ExternalIdentifier id="e1" registryObject="Doc1" identificationScheme="{DOCUMENT_ENTRY_PATIENT_ID}" value="$patientid$"/>
   <rim:ExternalIdentifier id="e2" registryObject="Doc1" identificationScheme="{DOCUMENT_ENTRY_UNIQUE_ID}" value="Doc1"/>
  </rim:ExtrinsicObject>
  <rim:ExtrinsicObject id="Doc2" mimeType="text/plain">
   <rim:ExternalIdentifier id="e3" registryObject="Doc2" identificationScheme="{DOCUMENT_ENTRY_PATIENT_ID}" value="$patientid$"/>
   <rim:ExternalIdentifier id="e4" registryObject="Doc2" identificationScheme="{DOCUMENT_ENTRY_UNIQUE_ID}" value="$keep$"/>
  </rim:ExtrinsicObject>
  <rim:RegistryPackage id="SS">
   <rim:ExternalIdentifier id="e5" registryObject="SS" identificationScheme="{SUBMISSION_SET_UNIQUE_ID}" value="SS"/>
   <rim:ExternalIdentifier id="e6" registryObject="SS" identificationScheme="{SUBMISSION_SET_SOURCE_ID}" value="9.9"/>
   <rim:ExternalIdentifier id="e7" registryObject="SS" identificationScheme="{SUBMISSION_SET_PATIENT_ID}" value="$patientid$"/>
  </rim:RegistryPackage>
  <rim:Association id="a1" sourceObject="SS" targetObject="Doc1" associationType="HasMember"/>
  <rim:Association id="a2" sourceObject="Doc2" targetObject="urn:uuid:11111111-1111-1111-1111-111111111111" associationType="RPLC"/>
 </rim:RegistryObjectList></lcm:SubmitObjectsRequest>
 <xdsb:Document id="Doc1"/>
</xdsb:ProvideAndRegisterDocumentSetRequest>"""


def body(text: str = SUBMISSION) -> etree._Element:
    return etree.fromstring(text.encode())


def sources(patient: str = "P^^^&1.2&ISO") -> AssignSources:
    numbers = itertools.count(1)
    return AssignSources(
        current_patient=patient, alt_patient=lambda: "ALT^^^&9.9.9&ISO",
        unique_id=lambda: f"1.2.3.{next(numbers)}", uuid=lambda: f"urn:uuid:00000000-0000-0000-0000-{next(numbers):012d}",
        source_id="7.7.7",
    )


def values(root: etree._Element, scheme: str) -> list[str]:
    return [e.get("value") for e in root.iter(f"{{{RIM}}}ExternalIdentifier") if e.get("identificationScheme") == scheme]


ALL = {"submission": True, "patient_id": "current", "unique_ids": True, "keep_unique_ids_of": [],
       "source_id": True, "uuids": True}


# ------------------------------------------------------------ symbols


def test_symbols_are_replaced_in_text_attributes_and_tails_but_not_comments():
    root = etree.fromstring(b'<a x="pre-$s$-post"><b>$s$</b>tail $s$<!-- $s$ --><c y="$s$"/></a>')
    replace_symbols(root, {"$s$": "V"})
    assert root.get("x") == "pre-V-post"
    assert root.find("b").text == "V"
    assert root.find("b").tail == "tail V"
    assert "$s$" in etree.tostring(root).decode().split("<!--")[1]
    assert root.find("c").get("y") == "V"


def test_longer_symbols_win_over_their_prefixes():
    root = etree.fromstring(b"<a><b>$patientid$</b><c>$patientid</c></a>")
    replace_symbols(root, {"$patientid": "SHORT", "$patientid$": "LONG"})
    assert root.find("b").text == "LONG"
    assert root.find("c").text == "SHORT"
    assert replace_in_text("'orig_uuid' = @id and 'orig_uuid2'", {"orig_uuid": "U", "orig_uuid2": "W"}) == "'U' = @id and 'W'"


# ------------------------------------------------------------ assign


def test_nothing_is_assigned_unless_the_step_is_a_submission():
    root = body()
    assigned = apply_assign(root, dict(ALL, submission=False), sources())
    assert assigned.maps() == {"AssignedPatientId": {}, "AssignedUids": {}, "AssignedUuids": {}}
    assert etree.tostring(root) == etree.tostring(body())


def test_current_patient_goes_to_every_patient_id_and_is_recorded_per_object():
    root = body()
    assigned = apply_assign(root, dict(ALL, uuids=False), sources("P1^^^&1.2&ISO"))
    assert set(values(root, DOCUMENT_ENTRY_PATIENT_ID) + values(root, SUBMISSION_SET_PATIENT_ID)) == {"P1^^^&1.2&ISO"}
    assert assigned.patient_ids == {"Doc1": "P1^^^&1.2&ISO", "Doc2": "P1^^^&1.2&ISO", "SS": "P1^^^&1.2&ISO"}


def test_alt_patient_is_one_unknown_patient_for_the_whole_submission():
    root = body()
    apply_assign(root, dict(ALL, patient_id="alt"), sources())
    assert set(values(root, DOCUMENT_ENTRY_PATIENT_ID)) == {"ALT^^^&9.9.9&ISO"}


def test_null_patient_leaves_the_values_and_records_them():
    root = body()
    replace_symbols(root, {"$patientid$": "Q^^^&1.2&ISO"})
    assigned = apply_assign(root, dict(ALL, patient_id=None), sources())
    assert assigned.patient_ids["SS"] == "Q^^^&1.2&ISO"


def test_unique_ids_are_fresh_except_kept_ones_and_all_are_recorded_and_reported():
    root = body()
    replace_symbols(root, {"$keep$": "5.5.5"})
    assigned = apply_assign(root, dict(ALL, keep_unique_ids_of=["Doc2"], uuids=False), sources())
    doc_uids = values(root, DOCUMENT_ENTRY_UNIQUE_ID)
    assert doc_uids[1] == "5.5.5" and doc_uids[0].startswith("1.2.3.")
    assert values(root, SUBMISSION_SET_UNIQUE_ID)[0].startswith("1.2.3.")
    assert assigned.unique_ids == {"Doc1": doc_uids[0], "Doc2": "5.5.5", "SS": values(root, SUBMISSION_SET_UNIQUE_ID)[0]}
    assert assigned.reports()["Doc1_uid"] == doc_uids[0]


def test_source_id_is_the_harness_source():
    root = body()
    apply_assign(root, ALL, sources())
    assert values(root, SUBMISSION_SET_SOURCE_ID) == ["7.7.7"]
    root = body()
    apply_assign(root, dict(ALL, source_id=False), sources())
    assert values(root, SUBMISSION_SET_SOURCE_ID) == ["9.9"]


def test_uuids_replace_symbolic_ids_and_every_reference_to_them():
    root = body()
    assigned = apply_assign(root, ALL, sources())
    uuids = assigned.uuids
    assert set(uuids) == {"Doc1", "Doc2", "SS", "c1", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "a1", "a2"}
    assert all(v.startswith("urn:uuid:") for v in uuids.values())
    doc1 = root.find(f".//{{{RIM}}}ExtrinsicObject")
    assert doc1.get("id") == uuids["Doc1"]
    assert doc1.find(f"{{{RIM}}}Classification").get("classifiedObject") == uuids["Doc1"]
    assert doc1.find(f"{{{RIM}}}ExternalIdentifier").get("registryObject") == uuids["Doc1"]
    a1, a2 = root.iter(f"{{{RIM}}}Association")
    assert (a1.get("sourceObject"), a1.get("targetObject")) == (uuids["SS"], uuids["Doc1"])
    # references to objects outside the submission stay as they are
    assert a2.get("targetObject") == "urn:uuid:11111111-1111-1111-1111-111111111111"
    assert root.find(f"{{{XDSB}}}Document").get("id") == uuids["Doc1"]
    assert assigned.reports()["SS_uuid"] == uuids["SS"]
    # maps are keyed by the symbolic id even though registryObject was rewritten
    assert set(assigned.patient_ids) == {"Doc1", "Doc2", "SS"}


def test_ids_already_uuids_are_kept():
    root = etree.fromstring(f'<r xmlns:rim="{RIM}"><rim:ExtrinsicObject id="urn:uuid:abc" lid="urn:uuid:abc"/></r>'.encode())
    assert apply_assign(root, ALL, sources()).uuids == {}


# ------------------------------------------------------------ reports


def test_xpath_string_values():
    root = etree.fromstring(b'<a x="1"><b>one</b><b>two</b></a>')
    assert xpath_string(root, "//b") == "one"
    assert xpath_string(root, "//@x") == "1"
    assert xpath_string(root, "count(//b)") == "2"
    assert xpath_string(root, "//c") is None
    assert xpath_string(root, "count(//b) = 2") == "true"


# ------------------------------------------------------------ patients


def test_patients_are_fresh_per_test_and_in_the_configured_domain():
    ids = IdSource(Identity(patient_root="1.2.3"))
    first, second = TestPatients(ids), TestPatients(ids)
    assert first.main != second.main
    assert first.main.endswith("^^^&1.2.3&ISO") and first.main.split("^")[0].isdigit()
    assert ids.alt_patient().endswith(f"^^^&{Identity().alt_patient_root}&ISO")


def test_new_patient_changes_current_but_not_main():
    patients = TestPatients(IdSource())
    main = patients.main
    assert patients.current == main
    new = patients.new_current()
    assert patients.current == new != main
    assert patients.slot("main") == main


def test_feed_slots_are_shared_across_tests_and_15818_is_the_tests_own_patient():
    ids = IdSource()
    one, two = TestPatients(ids), TestPatients(ids)
    assert one.slot("15820") == two.slot("15820") != one.slot("15819")
    assert one.slot("15820") not in (one.main, two.main)
    assert one.slot("15818") == one.main and two.slot("15818") == two.main


def test_unique_ids_differ_between_runs():
    assert IdSource(nonce=1).unique_id() != IdSource(nonce=2).unique_id()
