"""The SOAP 1.2 envelope: reading Header and Body, the mustUnderstand check, writing a message.

Owns SOAP 1.2 Part 1 §5 (Envelope, Header, Body), §5.2.3 / §5.4.8 (mustUnderstand and the
env:NotUnderstood header) and §5.4.7 (VersionMismatch and the env:Upgrade header). The node
acts in the `next` and `ultimateReceiver` roles; header blocks addressed to other roles are
not its business, whatever their mustUnderstand says.
"""
from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from soap import faults
from soap.faults import SoapFault
from soap.splice import Spliced, serialize
from soap.xml import SOAP11_NS, SOAP12_NS, WSA_NS

ENV = f"{{{SOAP12_NS}}}"
ROLE_NEXT = SOAP12_NS + "/role/next"
ROLE_ULTIMATE_RECEIVER = SOAP12_NS + "/role/ultimateReceiver"
_OUR_ROLES = frozenset({ROLE_NEXT, ROLE_ULTIMATE_RECEIVER})
_MUST_UNDERSTAND = ENV + "mustUnderstand"
_ROLE = ENV + "role"
_NSMAP = {"env": SOAP12_NS, "wsa": WSA_NS}


def read_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """Return (env:Header or None, the one child element of env:Body)."""
    if root.tag != ENV + "Envelope":
        raise version_mismatch(root.tag)
    children = [child for child in root if isinstance(child.tag, str)]
    header = None
    if children and children[0].tag == ENV + "Header":
        header = children.pop(0)
    if not children or children[0].tag != ENV + "Body":
        raise SoapFault(faults.SENDER, "SOAP Envelope has no Body")
    if len(children) > 1:
        raise SoapFault(faults.SENDER, "SOAP Envelope has elements after the Body")
    payload = [child for child in children[0] if isinstance(child.tag, str)]
    if not payload:
        raise SoapFault(faults.SENDER, "SOAP Body is empty")
    if len(payload) > 1:
        raise SoapFault(faults.SENDER, "SOAP Body must hold exactly one element")
    return header, payload[0]


def version_mismatch(tag: str) -> SoapFault:
    """VersionMismatch fault for a root that is not a SOAP 1.2 Envelope, with env:Upgrade."""
    if tag == f"{{{SOAP11_NS}}}Envelope":
        reason = "SOAP 1.1 is not supported; send a SOAP 1.2 envelope"
    else:
        reason = "Root element is not a SOAP 1.2 Envelope"
    upgrade = etree.Element(ENV + "Upgrade", nsmap={"env": SOAP12_NS})
    supported = etree.SubElement(upgrade, ENV + "SupportedEnvelope")
    supported.set("qname", "env:Envelope")
    return SoapFault(faults.VERSION_MISMATCH, reason, header_blocks=[upgrade])


def check_must_understand(header: etree._Element | None, understood: frozenset[str]) -> None:
    """Raise a MustUnderstand fault naming every mandatory header block we do not process."""
    if header is None:
        return
    missed = [
        block
        for block in header
        if isinstance(block.tag, str)
        and block.get(_MUST_UNDERSTAND, "").strip() in ("true", "1")
        and block.get(_ROLE, ROLE_ULTIMATE_RECEIVER) in _OUR_ROLES
        and block.tag not in understood
    ]
    if not missed:
        return
    names = ", ".join(block.tag for block in missed)
    raise SoapFault(
        faults.MUST_UNDERSTAND,
        f"Header blocks not understood: {names}",
        header_blocks=[_not_understood(block.tag) for block in missed],
    )


def _not_understood(tag: str) -> etree._Element:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    nsmap = {"env": SOAP12_NS}
    if namespace:
        nsmap["nu"] = namespace
    block = etree.Element(ENV + "NotUnderstood", nsmap=nsmap)
    block.set("qname", f"nu:{local}" if namespace else local)
    return block


def build_envelope(
    header_children: Iterable[etree._Element], body_child: etree._Element, spliced: Spliced | None = None,
) -> bytes:
    """Serialize an envelope (UTF-8, with XML declaration) around the given blocks.

    The elements are moved into the new envelope, not copied: a handler's answer is built for
    this one message, and copying a large stored-query result would cost time for nothing.
    Moving re-declares only the namespaces each element uses, so the wire stays compact.
    Stand-ins in `spliced` (soap.splice) are written as their pre-serialised bytes.
    """
    envelope = etree.Element(ENV + "Envelope", nsmap=_NSMAP)
    blocks = list(header_children)
    if blocks:
        etree.SubElement(envelope, ENV + "Header").extend(blocks)
    etree.SubElement(envelope, ENV + "Body").append(body_child)
    return serialize(envelope, spliced or {})
