"""SOAP 1.2 faults: the `SoapFault` exception and its `env:Fault` element, both ways.

Owns the fault model of SOAP 1.2 Part 1 §5.4 (Code/Value, nested Subcode/Value, Reason/Text,
Detail), the HTTP status of a fault (SOAP 1.2 Part 2 §7.5.2.2: env:Sender → 400, every other
fault → 500) and the fault actions and subcodes of WS-Addressing 1.0 SOAP Binding §6.
Subcodes are QNames kept in Clark notation (`{namespace}local`); `wsa:` and `env:` prefixed
names are accepted for convenience.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

from lxml import etree

from soap.xml import SOAP12_NS, WSA_NS, XML_NS

SENDER = "Sender"
RECEIVER = "Receiver"
MUST_UNDERSTAND = "MustUnderstand"
VERSION_MISMATCH = "VersionMismatch"
DATA_ENCODING_UNKNOWN = "DataEncodingUnknown"
FAULT_CODES = frozenset({SENDER, RECEIVER, MUST_UNDERSTAND, VERSION_MISMATCH, DATA_ENCODING_UNKNOWN})

# WS-Addressing 1.0 SOAP Binding §6: faults defined there use the first action, any other
# SOAP fault the second.
WSA_FAULT_ACTION = WSA_NS + "/fault"
SOAP_FAULT_ACTION = WSA_NS + "/soap/fault"

INVALID_ADDRESSING_HEADER = f"{{{WSA_NS}}}InvalidAddressingHeader"
INVALID_CARDINALITY = f"{{{WSA_NS}}}InvalidCardinality"
MESSAGE_ADDRESSING_HEADER_REQUIRED = f"{{{WSA_NS}}}MessageAddressingHeaderRequired"
ACTION_NOT_SUPPORTED = f"{{{WSA_NS}}}ActionNotSupported"
DESTINATION_UNREACHABLE = f"{{{WSA_NS}}}DestinationUnreachable"
ENDPOINT_UNAVAILABLE = f"{{{WSA_NS}}}EndpointUnavailable"

_KNOWN_PREFIXES = {"wsa": WSA_NS, "env": SOAP12_NS, "soap": SOAP12_NS}
_WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_PREFERRED_PREFIX = {WSA_NS: "wsa", SOAP12_NS: "env", _WSSE_NS: "wsse"}

_ENV = f"{{{SOAP12_NS}}}"


class SoapFault(Exception):
    """A SOAP 1.2 fault; raise it anywhere below the router to answer with an env:Fault.

    `code` is one of FAULT_CODES; `subcode` a QName or a chain of QNames (outermost first);
    `detail` an element or elements placed in env:Detail; `header_blocks` extra SOAP header
    blocks for the fault message (env:NotUnderstood, env:Upgrade).
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        subcode: str | Sequence[str] | None = None,
        detail: etree._Element | Iterable[etree._Element] | None = None,
        header_blocks: Iterable[etree._Element] = (),
    ):
        if code not in FAULT_CODES:
            raise ValueError(f"not a SOAP 1.2 fault code: {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason
        if subcode is None:
            chain: tuple[str, ...] = ()
        elif isinstance(subcode, str):
            chain = (subcode,)
        else:
            chain = tuple(subcode)
        self.subcodes = tuple(_clark(name) for name in chain)
        if detail is None:
            self.detail: tuple[etree._Element, ...] = ()
        elif isinstance(detail, etree._Element):
            self.detail = (detail,)
        else:
            self.detail = tuple(detail)
        self.header_blocks = tuple(header_blocks)

    @property
    def subcode(self) -> str | None:
        return self.subcodes[0] if self.subcodes else None

    @property
    def http_status(self) -> int:
        return 400 if self.code == SENDER else 500

    @property
    def action(self) -> str:
        if any(name.startswith(f"{{{WSA_NS}}}") for name in self.subcodes):
            return WSA_FAULT_ACTION
        return SOAP_FAULT_ACTION

    def __repr__(self) -> str:
        return f"SoapFault({self.code!r}, {self.reason!r}, subcode={self.subcodes!r})"

    def to_element(self) -> etree._Element:
        """The env:Fault element (SOAP 1.2 Part 1 §5.4)."""
        fault = etree.Element(_ENV + "Fault", nsmap={"env": SOAP12_NS})
        code = etree.SubElement(fault, _ENV + "Code")
        etree.SubElement(code, _ENV + "Value").text = "env:" + self.code
        parent = code
        for index, name in enumerate(self.subcodes):
            parent = etree.SubElement(parent, _ENV + "Subcode")
            _qname_value(parent, name, index)
        reason = etree.SubElement(fault, _ENV + "Reason")
        text = etree.SubElement(reason, _ENV + "Text")
        text.set(f"{{{XML_NS}}}lang", "en")
        text.text = self.reason
        if self.detail:
            detail = etree.SubElement(fault, _ENV + "Detail")
            # Copies, so the same fault can be rendered more than once.
            detail.extend(copy.deepcopy(element) for element in self.detail)
        return fault

    @classmethod
    def from_element(cls, fault: etree._Element) -> SoapFault:
        """Read an env:Fault element received from a peer."""
        code_value = fault.find(f"{_ENV}Code/{_ENV}Value")
        code_name = _resolve_qname(code_value)
        code = code_name.rpartition("}")[2] if code_name.startswith(_ENV) else ""
        if code not in FAULT_CODES:
            code = RECEIVER
        subcodes = []
        node = fault.find(f"{_ENV}Code/{_ENV}Subcode")
        while node is not None:
            name = _resolve_qname(node.find(_ENV + "Value"))
            if name:
                subcodes.append(name)
            node = node.find(_ENV + "Subcode")
        detail = fault.find(_ENV + "Detail")
        return cls(
            code,
            _reason_text(fault),
            subcode=subcodes,
            detail=[child for child in detail if isinstance(child.tag, str)] if detail is not None else None,
        )


def _clark(name: str) -> str:
    if name.startswith("{"):
        return name
    prefix, sep, local = name.partition(":")
    if not sep:
        return name
    if prefix not in _KNOWN_PREFIXES:
        raise ValueError(f"unknown prefix in subcode {name!r}; use {{namespace}}local")
    return f"{{{_KNOWN_PREFIXES[prefix]}}}{local}"


def _qname_value(parent: etree._Element, name: str, index: int) -> None:
    # A QName in element content needs its prefix declared where it is used.
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        prefix = _PREFERRED_PREFIX.get(namespace, f"sc{index}")
        value = etree.SubElement(parent, _ENV + "Value", nsmap={prefix: namespace})
        value.text = f"{prefix}:{local}"
    else:
        etree.SubElement(parent, _ENV + "Value").text = name


def _resolve_qname(value: etree._Element | None) -> str:
    if value is None or not value.text:
        return ""
    text = value.text.strip()
    prefix, sep, local = text.partition(":")
    if not sep:
        namespace = value.nsmap.get(None)
        return f"{{{namespace}}}{text}" if namespace else text
    namespace = value.nsmap.get(prefix)
    return f"{{{namespace}}}{local}" if namespace else text


def _reason_text(fault: etree._Element) -> str:
    texts = fault.findall(f"{_ENV}Reason/{_ENV}Text")
    for text in texts:
        if (text.get(f"{{{XML_NS}}}lang") or "").lower().startswith("en"):
            return text.text or ""
    return (texts[0].text or "") if texts else ""
