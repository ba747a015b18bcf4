"""LeafClass answers with the stored XML spliced in unparsed (registry.queries.results,
soap.splice): the written answer is the tree-built one (stored bytes parsed, `home` set on each
object), the stand-ins name what the audit reads, and answers without objects splice nothing."""
from __future__ import annotations

import pytest
from lxml import etree

from profiles.errors import ErrorCode, Status
from profiles.responses import adhoc_query_response, read_registry_response
from profiles.vocabulary import RIM, DocumentEntryScheme
from registry.queries import QueryOptions, answer_query
from registry.queries.results import with_home
from soap.splice import serialize
from tests.registry.store.builders import PATIENT, association, document, folder

from .support import APPROVED, q, ql, request

DE = "$XDSDocumentEntry"
HOME = "urn:oid:1.2.3.4"
FIND = {DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)}


def ask(reg, query: str, return_type: str = "LeafClass", **options):
    params = options.pop("params", FIND)
    with reg.engine.connect() as conn:
        return answer_query(conn, request(query, return_type, **params), QueryOptions(**options))


def written(answer) -> etree._Element:
    return etree.fromstring(serialize(answer.body, answer.spliced))


def tree_built(stored: list[bytes], home: str | None) -> etree._Element:
    """The answer as the registry built it before splicing: the stored bytes parsed into the
    tree, `home` set on every object."""
    response = adhoc_query_response([], stored, status=Status.SUCCESS)
    if home:
        for obj in response.find(f"{{{RIM}}}RegistryObjectList"):
            obj.set("home", home)
    return response


def c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


@pytest.mark.parametrize("home", [None, HOME])
def test_find_documents_writes_the_tree_built_answer(reg, home):
    docs = [document(), document()]
    reg.submit(*docs)
    answer = ask(reg, "FindDocuments", home_community_id=home)
    assert len(answer.spliced) == 2
    assert c14n(written(answer)) == c14n(tree_built([reg.stored[d.id] for d in docs], home))


@pytest.mark.parametrize("home", [None, HOME])
def test_every_kind_of_object_is_written_as_stored(reg, home):
    doc, fld = document(), folder()
    stored = reg.submit(doc, fld, association(fld.id, doc.id))
    answer = ask(reg, "GetSubmissionSetAndContents", home_community_id=home,
                 params={"$XDSSubmissionSetEntryUUID": q(stored[0].id)})
    kinds = [etree.QName(s).localname for s in answer.spliced]
    assert kinds[:3] == ["RegistryPackage", "ExtrinsicObject", "RegistryPackage"]
    assert set(kinds[3:]) == {"Association"} and len(kinds) > 3
    expected = tree_built([reg.stored[stand_in.get("id")] for stand_in in answer.spliced], home)
    assert c14n(written(answer)) == c14n(expected)


def test_tree_gives_the_written_answer_as_one_tree(reg):
    reg.submit(document())
    answer = ask(reg, "FindDocuments", home_community_id=HOME)
    expected = c14n(written(answer))
    assert c14n(answer.tree()) == expected
    assert answer.spliced == {}


def test_a_home_the_object_was_stored_with_is_replaced_by_the_configured_one(reg):
    doc = document(home="urn:oid:9.9")
    reg.submit(doc)
    own = ask(reg, "FindDocuments")
    assert written(own).find(f"{{{RIM}}}RegistryObjectList")[0].get("home") == "urn:oid:9.9"
    assert list(own.spliced.values()) == [reg.stored[doc.id]]
    configured = ask(reg, "FindDocuments", home_community_id=HOME)
    (obj,) = written(configured).find(f"{{{RIM}}}RegistryObjectList")
    assert obj.get("home") == HOME
    assert c14n(obj) == c14n(tree_built([reg.stored[doc.id]], HOME)[0][0])


def test_stand_ins_name_what_an_audit_record_reads(reg):
    doc = document(repository_unique_id="1.2.3.99")
    reg.submit(doc)
    (stand_in,) = ask(reg, "FindDocuments", home_community_id=HOME).spliced
    assert stand_in.get("id") == doc.id and stand_in.get("home") == HOME
    identifiers = {e.get("identificationScheme"): e.get("value") for e in stand_in.iter(f"{{{RIM}}}ExternalIdentifier")}
    assert identifiers == {DocumentEntryScheme.UNIQUE_ID: doc.unique_id, DocumentEntryScheme.PATIENT_ID: PATIENT}
    assert stand_in.findtext(f"{{{RIM}}}Slot[@name='repositoryUniqueId']/{{{RIM}}}ValueList/{{{RIM}}}Value") \
        == "1.2.3.99"


def test_object_ref_answers_splice_nothing(reg):
    doc = document()
    reg.submit(doc)
    answer = ask(reg, "FindDocuments", "ObjectRef", home_community_id=HOME)
    assert answer.spliced == {}
    (ref,) = answer.body.find(f"{{{RIM}}}RegistryObjectList")
    assert (etree.QName(ref).localname, ref.get("id"), ref.get("home")) == ("ObjectRef", doc.id, HOME)


def test_empty_answers_splice_nothing(reg):
    answer = ask(reg, "FindDocuments")
    assert answer.spliced == {} and len(answer.body.find(f"{{{RIM}}}RegistryObjectList")) == 0
    assert read_registry_response(written(answer)) == (Status.SUCCESS, [])


def test_error_answers_splice_nothing(reg):
    reg.submit(document(), document())
    too_many = ask(reg, "FindDocuments", result_limit=1)
    assert too_many.spliced == {}
    status, issues = read_registry_response(written(too_many))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.TOO_MANY_RESULTS]
    missing = ask(reg, "FindDocuments", params={DE + "PatientId": q(PATIENT)})
    assert missing.spliced == {}
    assert [i.code for i in read_registry_response(written(missing))[1]] == [ErrorCode.STORED_QUERY_MISSING_PARAM]


OBJECT = b'<rim:ExtrinsicObject xmlns:rim="urn:x" id="a" status="s&gt;"><rim:Slot name="n"/></rim:ExtrinsicObject>'


def test_with_home_adds_the_attribute_last_in_the_start_tag():
    assert with_home(OBJECT, HOME) == OBJECT.replace(b'status="s&gt;">', b'status="s&gt;" home="urn:oid:1.2.3.4">')


def test_with_home_replaces_a_home_in_the_start_tag_only():
    stored = OBJECT.replace(b'id="a"', b'id="a" home="urn:oid:9"').replace(b'name="n"', b'name="n" home="x"')
    assert with_home(stored, HOME) == stored.replace(b'home="urn:oid:9"', b'home="urn:oid:1.2.3.4"')


def test_with_home_on_an_empty_element_and_escaping():
    assert with_home(b'<rim:ObjectRef xmlns:rim="urn:x" id="a"/>', 'urn:oid:1&"2') \
        == b'<rim:ObjectRef xmlns:rim="urn:x" id="a" home="urn:oid:1&amp;&quot;2"/>'
