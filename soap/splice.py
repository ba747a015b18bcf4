"""Pre-serialised XML written into an outgoing message without being parsed (XML 1.0 §3:
element content is a sequence of elements; one serialised element is spliced in as it is).

A handler that already holds the bytes of some elements (a registry answering stored
canonical XML) gives the router a body tree in which each such element is represented by a
*stand-in* — an element of the same name carrying whatever the layers around the router need
to read (ids, the facts an audit record names) — and a mapping `stand-in → bytes`:

    body = build_answer_with_stand_ins()
    SoapResponse(body, spliced={stand_in: stored_bytes, ...})

`serialize` writes the tree with every stand-in replaced by its bytes; the tree itself is left
as it was (the stand-ins are swapped for markers only while it is being written), so the layers
reading the response after the router still see the stand-ins. `expand` turns the tree into
the whole answer (stand-ins replaced by their parsed bytes) for callers that need a tree.

Each value must be one complete element: UTF-8, no XML declaration, every namespace prefix it
uses declared on itself (what `etree.tostring(element)` writes). It is trusted: this module
does not check it (the caller wrote it, e.g. when it stored it).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Mapping

from lxml import etree

#: target of the processing instructions marking where spliced bytes go while writing. Markup
#: cannot appear unescaped in text or attribute values, so `<?xdsno-splice` in the written
#: tree is always one of the markers.
_TARGET = "xdsno-splice"
_MARKER = re.compile(rb"<\?" + _TARGET.encode() + rb" (\d+)\?>")

Spliced = Mapping[etree._Element, bytes]

_local = threading.local()


def serialize(root: etree._Element, spliced: Spliced, *, xml_declaration: bool = True) -> bytes:
    """`root` written as UTF-8, each stand-in in `spliced` written as its bytes instead."""
    if not spliced:
        return etree.tostring(root, xml_declaration=xml_declaration, encoding="UTF-8")
    pieces = list(spliced.values())
    markers = [_swap(stand_in, etree.ProcessingInstruction(_TARGET, str(index)))
               for index, stand_in in enumerate(spliced)]
    try:
        written = etree.tostring(root, xml_declaration=xml_declaration, encoding="UTF-8")
    finally:
        for marker, stand_in in zip(markers, spliced):
            _swap(marker, stand_in)
    parts = _MARKER.split(written)
    # split() alternates text between markers and the marker's index
    parts[1::2] = [pieces[int(index)] for index in parts[1::2]]
    return b"".join(parts)


def expand(spliced: Spliced) -> None:
    """Replace every stand-in in its tree by its parsed bytes (all parsed in one go)."""
    if not spliced:
        return
    wrapper = etree.fromstring(b"<spliced>" + b"".join(spliced.values()) + b"</spliced>", _parser())
    for stand_in, element in zip(list(spliced), list(wrapper)):
        _swap(stand_in, element)


def _swap(old: etree._Element, new: etree._Element) -> etree._Element:
    parent = old.getparent()
    if parent is None:
        raise ValueError("a spliced stand-in must have a parent element")
    tail, old.tail = old.tail, None
    parent.replace(old, new)
    new.tail = tail
    return new


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads: one per thread, built once.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, collect_ids=False)
    return parser


__all__ = ["Spliced", "expand", "serialize"]
