"""The one hardened XML parse every inbound byte goes through, and the namespaces of the stack.

Owns `parse_xml` and `XmlRejected`. SOAP 1.2 Part 1 §5 forbids a document type declaration in a
SOAP message, so any DTD is refused before libxml2 sees it; the parser is additionally
configured to never resolve entities, load DTDs or touch the network (defence in depth against
entity expansion and XXE should the pre-scan ever be bypassed).
"""
from __future__ import annotations

import re
import threading

from lxml import etree

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
XOP_NS = "http://www.w3.org/2004/08/xop/include"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Large enough for a big ITI-42 submission or a stored-query answer, small enough to bound
# memory per request; documents themselves travel as MTOM attachments, not in the XML.
DEFAULT_MAX_XML_BYTES = 32 * 1024 * 1024

# The prolog of a real message is a few hundred bytes; look further only when it is not
# finished inside this window.
_PROLOG_WINDOW = 64 * 1024

_local = threading.local()


class XmlRejected(ValueError):
    """The input is not a well-formed, DTD-free XML document within the size limit."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per thread, built once.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> etree._Element:
    """Parse `data` into its root element, refusing empty, oversize and DTD-bearing input."""
    if not data or not data.strip():
        raise XmlRejected("empty XML document")
    if len(data) > max_bytes:
        raise XmlRejected(f"XML document exceeds {max_bytes} bytes")
    if _has_dtd(data):
        raise XmlRejected("DTD (DOCTYPE) is not allowed in a SOAP message")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRejected(_syntax_reason(str(exc))) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise XmlRejected("DTD (DOCTYPE) is not allowed in a SOAP message")
    return root


# libxml2 words its limits without huge_tree (a text node over 10,000,000 bytes, elements
# nested deeper than 256) as syntax errors with an "XML_PARSE_HUGE" hint meant for programmers.
_LIMIT_WORDS = ("XML_PARSE_HUGE", "huge text node", "Resource limit exceeded")
_HUGE_HINT = re.compile(r",?\s*(?:try|use) XML_PARSE_HUGE(?: option)?|Resource limit exceeded: ")


def _syntax_reason(message: str) -> str:
    """What the peer is told: a parser limit is named as one, not as malformed XML."""
    if any(word in message for word in _LIMIT_WORDS):
        return ("XML document exceeds a parser limit (text nodes up to 10,000,000 bytes, nesting "
                f"up to 256 levels): {_HUGE_HINT.sub('', message)}")
    return f"XML not well-formed: {message}"


def _has_dtd(data: bytes) -> bool:
    """True when the prolog holds a markup declaration (`<!DOCTYPE`, or any other `<!`).

    Only the prolog is scanned, so the text `<!DOCTYPE` inside a CDATA section of the body is
    no false alarm. Latin-1 maps bytes 1:1, which keeps ASCII markup of UTF-8 input intact.
    """
    text = _prolog_text(data, _PROLOG_WINDOW)
    found = _prolog_declares(text)
    if found is None and len(text) < len(data):
        found = _prolog_declares(_prolog_text(data, len(data)))
    return bool(found)


def _prolog_text(data: bytes, limit: int) -> str:
    head = data[:limit]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head[: len(head) // 2 * 2].decode("utf-16", "ignore")
    if head[:2] == b"<\x00":
        return head[: len(head) // 2 * 2].decode("utf-16-le", "ignore")
    if head[:2] == b"\x00<":
        return head[: len(head) // 2 * 2].decode("utf-16-be", "ignore")
    return head.decode("latin-1")


def _prolog_declares(text: str) -> bool | None:
    """Walk XMLDecl, PIs, comments and whitespace up to the root tag; None if cut short."""
    i = 0
    for bom in ("\ufeff", "\xef\xbb\xbf"):  # UTF-16 / UTF-8 byte order marks
        if text.startswith(bom):
            i = len(bom)
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        else:
            return text.startswith("<!", i)
    return None
