"""soap.splice: stand-ins written as pre-serialised bytes, the tree left as it was; and the
router writing a SoapResponse's spliced bytes."""
from __future__ import annotations

import pytest
from lxml import etree

from soap.router import ENVIRON_RESPONSE, SoapResponse, SoapRouter
from soap.splice import expand, serialize

from .support import ECHO, NS, call_wsgi, request_bytes

OTHER = "urn:test:other"
STORED = f'<o:Item xmlns:o="{OTHER}" id="a"><o:Part>x &amp; y</o:Part></o:Item>'.encode()


def answer_with_stand_ins() -> tuple[etree._Element, dict]:
    """<t:List> holding text, a stand-in, a plain element, a second stand-in."""
    root = etree.Element(f"{{{NS}}}List", nsmap={"t": NS})
    root.text = "head"
    first = etree.SubElement(root, f"{{{OTHER}}}Item", id="a")
    first.tail = "between"
    etree.SubElement(root, f"{{{NS}}}Plain").text = "kept"
    second = etree.SubElement(root, f"{{{OTHER}}}Item", id="b")
    second.tail = "end"
    return root, {first: STORED, second: STORED.replace(b'id="a"', b'id="b"')}


def respond_with_stand_ins(request) -> SoapResponse:
    root, spliced = answer_with_stand_ins()
    return SoapResponse(root, spliced=spliced)


def test_stand_ins_are_written_as_their_bytes_in_place():
    root, spliced = answer_with_stand_ins()
    written = serialize(root, spliced, xml_declaration=False)
    assert written == (f'<t:List xmlns:t="{NS}">head'.encode() + STORED + b"between<t:Plain>kept</t:Plain>"
                       + STORED.replace(b'id="a"', b'id="b"') + b"end</t:List>")
    parsed = etree.fromstring(written)
    assert [child.get("id") for child in parsed] == ["a", None, "b"]
    assert parsed[0].findtext(f"{{{OTHER}}}Part") == "x & y"


def test_the_tree_keeps_its_stand_ins_after_writing():
    root, spliced = answer_with_stand_ins()
    before = etree.tostring(root)
    serialize(root, spliced)
    assert etree.tostring(root) == before
    assert all(stand_in.getparent() is root for stand_in in spliced)


def test_without_stand_ins_the_tree_is_written_as_lxml_writes_it():
    root, _ = answer_with_stand_ins()
    assert serialize(root, {}) == etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_marker_text_in_content_is_escaped_not_spliced():
    root, spliced = answer_with_stand_ins()
    root.text = "<?xdsno-splice 0?>"
    written = serialize(root, spliced, xml_declaration=False)
    assert etree.fromstring(written).text == "<?xdsno-splice 0?>"
    assert written.count(STORED) == 1


def test_expand_replaces_every_stand_in_by_its_parsed_bytes():
    root, spliced = answer_with_stand_ins()
    written = serialize(root, spliced, xml_declaration=False)
    expand(spliced)
    assert etree.tostring(root, method="c14n") == etree.tostring(etree.fromstring(written), method="c14n")
    assert root[0].tail == "between" and root[2].tail == "end"


def test_a_stand_in_must_have_a_parent():
    lonely = etree.Element(f"{{{OTHER}}}Item")
    with pytest.raises(ValueError, match="must have a parent"):
        serialize(lonely, {lonely: STORED})


def test_the_router_writes_a_responses_spliced_bytes_and_leaves_the_stand_ins_to_the_layers_after_it():
    seen = {}
    router = SoapRouter()
    router.register(ECHO, respond_with_stand_ins)

    def app(environ, start_response):
        answered = router(environ, start_response)
        seen["body"] = environ[ENVIRON_RESPONSE].body
        return answered

    result = call_wsgi(app, *reversed(request_bytes()))
    assert result.status == 200
    body = result.message().body
    assert [child.get("id") for child in body] == ["a", None, "b"]
    assert body[0].findtext(f"{{{OTHER}}}Part") == "x & y"
    assert seen["body"][0].find(f"{{{OTHER}}}Part") is None  # still the stand-in


def test_the_router_splices_into_mtom_answers_too():
    router = SoapRouter()
    router.register(ECHO, respond_with_stand_ins)
    content_type, body = request_bytes(mtom=True)
    result = call_wsgi(router, body, content_type)
    assert result.status == 200 and result.content_type.startswith("multipart/related")
    assert result.message().body[2].findtext(f"{{{OTHER}}}Part") == "x & y"
