"""The harness's `expect` checks on small hand-made replies: status, error codes and
messages, query contents, XPath assertions over the section log, retrieve checks."""
from __future__ import annotations

import hashlib

import pytest
from lxml import etree

from scripts.conformance import checks
from scripts.conformance.checks import LoggedStep, Outcome

RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
STATUS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
SS_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
FOLDER_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
DE_UID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
FOLDER_UID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"


def xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def registry_response(status: str, *errors: tuple[str, str]) -> etree._Element:
    items = "".join(f'<rs:RegistryError errorCode="{c}" codeContext="{ctx}" severity="x"/>' for c, ctx in errors)
    error_list = f"<rs:RegistryErrorList>{items}</rs:RegistryErrorList>" if errors else ""
    return xml(f'<rs:RegistryResponse xmlns:rs="{RS}" status="{STATUS}{status}">{error_list}</rs:RegistryResponse>')


def ok(body: etree._Element, **kw) -> Outcome:
    return Outcome(body=body, action="urn:a:Response", **kw)


# ------------------------------------------------------------ status and errors


def test_status_success_and_failure():
    assert checks.check_status("Success", ok(registry_response("Success"))) == []
    reasons = checks.check_status("Success", ok(registry_response("Failure", ("XDSRegistryMetadataError", "no uniqueId"))))
    assert reasons == ["expected status Success, got Failure: XDSRegistryMetadataError no uniqueId"]
    assert checks.check_status("Failure", ok(registry_response("Success"))) == ["expected status Failure, got Success"]


def test_partial_success_may_use_the_ihe_status_urn():
    body = xml(f'<rs:RegistryResponse xmlns:rs="{RS}" status="urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"/>')
    assert checks.check_status("PartialSuccess", ok(body)) == []
    assert checks.check_status("Success", ok(body)) != []


def test_retrieve_status_is_read_from_the_inner_registry_response():
    body = xml(f'<x:RetrieveDocumentSetResponse xmlns:x="{XDSB}" xmlns:rs="{RS}">'
               f'<rs:RegistryResponse status="{STATUS}Failure"/></x:RetrieveDocumentSetResponse>')
    assert checks.check_status("Failure", ok(body)) == []


def test_faults():
    fault = Outcome(body=xml("<f/>"), fault="SOAP Fault Sender: bad")
    assert checks.check_status("Fault", fault) == []
    assert checks.check_status("Success", fault) == ["expected status Success, got SOAP Fault Sender: bad"]
    assert checks.check_status("Fault", ok(registry_response("Failure"))) == ["expected a SOAP Fault, got status Failure"]
    assert checks.check_status(None, fault) == []


def test_reply_action_and_mtom_must_match_the_request():
    outcome = Outcome(body=registry_response("Success"), action="urn:x:Other", is_mtom=True)
    reasons = checks.check_envelope("urn:x:Do", False, outcome)
    assert "reply wsa:Action 'urn:x:Other', expected 'urn:x:DoResponse'" in reasons
    assert "reply is MTOM but the request was plain SOAP" in reasons
    assert checks.check_envelope("urn:x:Do", True, Outcome(registry_response("Success"), action="urn:x:DoResponse", is_mtom=True)) == []


def test_error_codes_and_messages():
    body = registry_response("Failure", ("XDSPatientIdDoesNotMatch", "patient of Doc1 differs"))
    assert checks.check_error_codes(["XDSPatientIdDoesNotMatch"], ["PatientIdDoesNot", "Doc1"], body) == []
    assert checks.check_error_codes(["XDSUnknownPatientId"], [], body) == [
        "expected error code XDSUnknownPatientId, got ['XDSPatientIdDoesNotMatch']"]
    assert checks.check_error_codes([], ["nothing like it"], body) != []
    assert checks.check_error_codes(["X"], [], None) == ["expected error code X, got none"]


# ------------------------------------------------------------ contents


def ei(scheme: str, value: str, owner: str) -> str:
    return f'<rim:ExternalIdentifier id="ei-{owner}-{value}" registryObject="{owner}" identificationScheme="{scheme}" value="{value}"/>'


def query_response(*objects: str) -> etree._Element:
    return xml(f'<query:AdhocQueryResponse xmlns:query="{QUERY}" xmlns:rim="{RIM}" status="{STATUS}Success">'
               f'<rim:RegistryObjectList>{"".join(objects)}</rim:RegistryObjectList></query:AdhocQueryResponse>')


def document(id_: str, status: str = APPROVED, object_type: str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1") -> str:
    return f'<rim:ExtrinsicObject id="{id_}" status="{status}" objectType="{object_type}">{ei(DE_UID, "1." + id_, id_)}</rim:ExtrinsicObject>'


def submission_set(id_: str, status: str = APPROVED, inline: bool = True) -> str:
    node = f'<rim:Classification id="cl-{id_}" classifiedObject="{id_}" classificationNode="{SS_NODE}"/>'
    return f'<rim:RegistryPackage id="{id_}" status="{status}">{node if inline else ""}</rim:RegistryPackage>'


def folder(id_: str, status: str = APPROVED) -> str:
    return f'<rim:RegistryPackage id="{id_}" status="{status}">{ei(FOLDER_UID, "2." + id_, id_)}</rim:RegistryPackage>'


def member(source: str, target: str, type_: str = HAS_MEMBER) -> str:
    return f'<rim:Association id="as-{source}-{target}" sourceObject="{source}" targetObject="{target}" associationType="{type_}"/>'


def test_counts_split_packages_into_submission_sets_and_folders():
    body = query_response(
        document("d1"), document("d2"), submission_set("s1"), folder("f1"),
        # a submission set classified by a top-level Classification
        submission_set("s2", inline=False),
        f'<rim:Classification id="c9" classifiedObject="s2" classificationNode="{SS_NODE}"/>',
        member("s1", "d1"),
    )
    items = [{"check": "Documents", "count": 2}, {"check": "SubmissionSets", "count": 2},
             {"check": "Folders", "count": 1}, {"check": "Associations", "count": 1}]
    assert checks.check_contents(items, body) == []
    assert checks.check_contents([{"check": "Folders", "count": 0}], body) == ["expected 0 Folders, found 1"]


def test_object_refs_and_none():
    refs = xml(f'<query:AdhocQueryResponse xmlns:query="{QUERY}" xmlns:rim="{RIM}"><rim:RegistryObjectList>'
               f'<rim:ObjectRef id="urn:uuid:1"/><rim:ObjectRef id="urn:uuid:2"/></rim:RegistryObjectList></query:AdhocQueryResponse>')
    assert checks.check_contents([{"check": "ObjectRefs", "count": 2}], refs) == []
    assert checks.check_contents([{"check": "None"}], refs) == ["expected no objects, found 2"]
    assert checks.check_contents([{"check": "None"}], query_response()) == []
    empty = xml(f'<query:AdhocQueryResponse xmlns:query="{QUERY}" status="{STATUS}Success"/>')
    assert checks.check_contents([{"check": "None"}, {"check": "Documents", "count": 0}], empty) == []


@pytest.mark.parametrize("check, objects, good", [
    ("SSwithOneDoc", [submission_set("s"), document("d"), member("s", "d")], True),
    ("SSwithOneDoc", [submission_set("s"), document("d")], False),                      # no HasMember
    ("SSwithOneDoc", [submission_set("s"), document("d"), member("x", "d")], False),    # from elsewhere
    ("SSwithOneDoc", [submission_set("s"), document("d"), document("e"), member("s", "d"), member("s", "e")], False),
    ("SSwithTwoDoc", [submission_set("s"), document("d"), document("e"), member("s", "d"), member("s", "e")], True),
    ("SSwithOneDocOneFol", [submission_set("s"), document("d"), folder("f"), member("s", "d"), member("s", "f"),
                            member("f", "d")], True),
    ("SSwithOneDocOneFol", [submission_set("s"), document("d"), member("s", "d")], False),
    ("SSwithTwoDocOneFol", [submission_set("s"), document("d"), document("e"), folder("f"), member("s", "d"),
                            member("s", "e"), member("s", "f")], True),
    ("SSwithOneFol", [submission_set("s"), folder("f"), member("s", "f")], True),
    ("SSwithOneFol", [submission_set("s"), submission_set("t"), folder("f"), member("s", "f")], False),
])
def test_submission_set_shapes(check, objects, good):
    reasons = checks.check_contents([{"check": check}], query_response(*objects))
    assert (reasons == []) is good, reasons


@pytest.mark.parametrize("check, objects, good", [
    ("DocApp", [document("a"), document("b")], True),
    ("DocApp", [document("a"), document("b", DEPRECATED)], False),
    ("DocDep", [document("a", DEPRECATED)], True),
    ("DocDep", [document("a")], False),
    ("FolApp", [folder("f")], True),
    ("FolApp", [folder("f", DEPRECATED)], False),
    ("OneDocApp", [document("a"), document("b", DEPRECATED)], True),
    ("OneDocApp", [document("a"), document("b")], False),
    ("OneDocDep", [document("a"), document("b", DEPRECATED)], True),
    ("OneDocDep", [document("a")], False),
    ("SSApproved", [submission_set("s")], True),
    ("SSApproved", [submission_set("s", DEPRECATED)], False),
    ("SSApproved", [document("a")], False),
    ("HasRPLC", [member("a", "b", "urn:ihe:iti:2007:AssociationType:RPLC")], True),
    ("HasRPLC", [member("a", "b", "urn:ihe:iti:2007:AssociationType:APND")], False),
    ("HasAPND", [member("a", "b", "urn:ihe:iti:2007:AssociationType:APND")], True),
    ("HasXFRM_RPLC", [member("a", "b", "urn:ihe:iti:2007:AssociationType:XFRM_RPLC")], True),
])
def test_status_and_association_checks(check, objects, good):
    reasons = checks.check_contents([{"check": check}], query_response(*objects))
    assert (reasons == []) is good, reasons


def test_unknown_checks_fail_loudly():
    assert checks.check_contents([{"check": "Whatever"}], query_response()) == [
        "harness does not know the contents check {'check': 'Whatever'}"]


VERBATIM = """<DocumentEntries><MustOnlyInclude><DocumentEntry>
 <UseId testdir="../submit" id="Document01" symbol="$uuid$" step="s" section="AssignedUuids"/>
 <DocumentEntryType>urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1</DocumentEntryType>
</DocumentEntry></MustOnlyInclude></DocumentEntries>"""


def test_verbatim_document_entries_must_only_include():
    item = {"check": "DocumentEntries", "verbatim": VERBATIM}
    assert checks.check_contents([item], query_response(document("U1")), {"$uuid$": "U1"}) == []
    assert checks.check_contents([item], query_response(document("U1"), document("U2")), {"$uuid$": "U1"}) != []
    on_demand = document("U1", object_type="urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248")
    assert checks.check_contents([item], query_response(on_demand), {"$uuid$": "U1"}) != []
    assert checks.check_contents([item], query_response(document("U1")), {}) == ["verbatim check: symbol $uuid$ has no value"]


# ------------------------------------------------------------ assertions


def test_section_log_has_the_toolkit_shape():
    log = checks.section_log([LoggedStep("q", "StoredQueryTransaction", query_response(document("d"))),
                              LoggedStep("v", "NullTransaction", None)])
    assert log.tag == "TestResults"
    assert log.xpath("count(TestStep[@id='q']/StoredQueryTransaction[@step='q']/Result/*[local-name()='AdhocQueryResponse'])") == 1
    assert log.xpath("count(TestStep[@id='v']/NullTransaction/Result/*)") == 0


def test_assertions_with_symbols_true_false_and_broken():
    log = checks.section_log([LoggedStep("q", "StoredQueryTransaction", query_response(document("urn:uuid:9")))])
    good = [{"id": "status", "xpath": "//*[local-name()='ExtrinsicObject'][@id=\"orig_uuid\"]/@status = "
                                      "'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'"},
            {"id": "count", "xpath": 'count(//StoredQueryTransaction[@step="q"]/Result/*/*/*) = 1'},
            {"id": "nodes", "xpath": "//*[local-name()='ExtrinsicObject']"}]
    assert checks.check_assertions(good, log, {"orig_uuid": "urn:uuid:9"}) == []
    bad = checks.check_assertions([{"id": "v", "xpath": "count(//*[local-name()='ExtrinsicObject']) = 2"},
                                   {"id": "empty", "xpath": "//nothing"},
                                   {"id": "broken", "xpath": "count(//"}], log, {})
    assert bad[0].startswith("assertion v is false")
    assert bad[1].startswith("assertion empty is false")
    assert bad[2].startswith("assertion broken: invalid XPath")


@pytest.mark.parametrize("value, truth", [(True, True), (False, False), (0.0, False), (2.0, True),
                                          (float("nan"), False), ("", False), ("x", True), ([], False), ([1], True)])
def test_xpath_truth(value, truth):
    assert checks.xpath_true(value) is truth


# ------------------------------------------------------------ retrieve


def retrieve_response(*documents: tuple[str, str, str], status: str = "Success") -> etree._Element:
    parts = "".join(f"<x:DocumentResponse><x:RepositoryUniqueId>1.1</x:RepositoryUniqueId>"
                    f"<x:DocumentUniqueId>{uid}</x:DocumentUniqueId><x:mimeType>{mime}</x:mimeType>"
                    f"<x:Document>{content}</x:Document></x:DocumentResponse>" for uid, mime, content in documents)
    return xml(f'<x:RetrieveDocumentSetResponse xmlns:x="{XDSB}" xmlns:rs="{RS}">'
               f'<rs:RegistryResponse status="{STATUS}{status}"/>{parts}</x:RetrieveDocumentSetResponse>')


def content_by_text(element: etree._Element) -> bytes:
    return (element.text or "").encode()


def entry_with(uid: str, data: bytes, mime: str = "text/plain") -> str:
    slots = (f'<rim:Slot name="hash"><rim:ValueList><rim:Value>{hashlib.sha1(data).hexdigest().upper()}</rim:Value></rim:ValueList></rim:Slot>'
             f'<rim:Slot name="size"><rim:ValueList><rim:Value>{len(data)}</rim:Value></rim:ValueList></rim:Slot>')
    return f'<rim:ExtrinsicObject id="x{uid}" mimeType="{mime}">{slots}{ei(DE_UID, uid, "x" + uid)}</rim:ExtrinsicObject>'


def run_retrieve(spec, body, tmp_path, *, requested=1, status="Success", metadata=None):
    return checks.check_retrieve(spec, expected_status=status, requested=requested,
                                 outcome=Outcome(body, action="a", content=content_by_text),
                                 symbols={"$docuid$": "1.2.3"}, folder=tmp_path,
                                 reference_result=lambda ref: metadata)


def test_retrieve_reference_document_mime_type_and_count(tmp_path):
    (tmp_path / "ref.txt").write_bytes(b"hello")
    spec = {"mime_type": "text/plain", "reference_documents": [{"uid": "$docuid$", "file": "ref.txt"}]}
    assert run_retrieve(spec, retrieve_response(("1.2.3", "text/plain", "hello")), tmp_path) == []
    reasons = run_retrieve(spec, retrieve_response(("1.2.3", "text/xml", "hellO")), tmp_path, requested=2)
    assert any("expected mimeType text/plain" in r for r in reasons)
    assert any("expected 2 DocumentResponse" in r for r in reasons)
    assert any("content differs from ref.txt" in r for r in reasons)
    assert run_retrieve(spec, retrieve_response(("9.9", "text/plain", "hello")), tmp_path) == [
        "no DocumentResponse for DocumentUniqueId 1.2.3"]


def test_retrieve_without_reference_file_checks_presence_only(tmp_path):
    spec = {"mime_type": None, "reference_documents": [{"uid": "$docuid$", "file": None}]}
    assert run_retrieve(spec, retrieve_response(("1.2.3", "application/pdf", "x")), tmp_path) == []


def test_retrieve_checks_do_not_apply_to_expected_failures(tmp_path):
    spec = {"mime_type": "text/plain", "reference_documents": [{"uid": "$docuid$", "file": None}]}
    assert run_retrieve(spec, retrieve_response(status="Failure"), tmp_path, status="Failure") == []


def test_retrieve_reference_metadata(tmp_path):
    spec = {"reference_documents": [], "reference_metadata": {"test": "t", "section": "q", "step": "q"}}
    metadata = query_response(entry_with("1.2.3", b"hello"))
    assert run_retrieve(spec, retrieve_response(("1.2.3", "text/plain", "hello")), tmp_path, metadata=metadata) == []
    reasons = run_retrieve(spec, retrieve_response(("1.2.3", "text/xml", "hello!")), tmp_path, metadata=metadata)
    assert any("but metadata hash" in r for r in reasons)
    assert any("6 bytes but metadata size 5" in r for r in reasons)
    assert any("mimeType text/xml but metadata mimeType text/plain" in r for r in reasons)
    assert run_retrieve(spec, retrieve_response(("1.2.3", "text/plain", "hello")), tmp_path, metadata=None) == [
        "reference metadata: no query result recorded for t/q/q"]
