"""WS-Addressing 1.0 message addressing properties: read from a request, written on a reply.

Owns the `Addressing` value, the header blocks of a request and of its synchronous reply, and
the WS-Addressing faults (WS-Addressing 1.0 Core §3, SOAP Binding §2-§3 and §6). Replies
always travel back on the HTTP response (IHE synchronous exchange), so their destination is
the anonymous address.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from soap import faults
from soap.faults import SoapFault
from soap.xml import SOAP12_NS, WSA_NS

WSA = f"{{{WSA_NS}}}"
ANONYMOUS = WSA_NS + "/anonymous"
NONE_ADDRESS = WSA_NS + "/none"
REPLY_RELATIONSHIP = WSA_NS + "/reply"

# Every header block this module reads; the router counts them as understood.
ADDRESSING_HEADERS = frozenset(
    WSA + name for name in ("Action", "MessageID", "To", "ReplyTo", "FaultTo", "From", "RelatesTo")
)
_SINGLE = ("Action", "MessageID", "To", "ReplyTo", "FaultTo", "From")
_MUST_UNDERSTAND = f"{{{SOAP12_NS}}}mustUnderstand"


@dataclass(frozen=True, slots=True)
class Addressing:
    """The message addressing properties of one message (None when the header is absent)."""

    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None
    fault_to: str | None = None
    relates_to: str | None = None

    @property
    def reply_is_anonymous(self) -> bool:
        return self.reply_to is None or self.reply_to == ANONYMOUS


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def response_action(action: str) -> str:
    """The IHE convention (ITI TF-2 Appendix V): the response action is the request's + 'Response'."""
    return action + "Response"


def read_addressing(header: etree._Element | None, *, require_action: bool = True) -> Addressing:
    """Read the addressing headers of `header` (the env:Header element, or None)."""
    found: dict[str, list[etree._Element]] = {}
    if header is not None:
        for block in header:
            if isinstance(block.tag, str) and block.tag in ADDRESSING_HEADERS:
                found.setdefault(block.tag[len(WSA):], []).append(block)
    for name in _SINGLE:
        if len(found.get(name, ())) > 1:
            raise invalid_header(name, f"wsa:{name} appears more than once", cardinality=True)
    action = _text(found, "Action")
    if action is None and require_action:
        raise header_required("Action")
    if action is not None and not action:
        raise invalid_header("Action", "wsa:Action is empty")
    return Addressing(
        action=action,
        message_id=_text(found, "MessageID"),
        to=_text(found, "To"),
        reply_to=_address(found, "ReplyTo"),
        fault_to=_address(found, "FaultTo"),
        relates_to=_reply_relation(found.get("RelatesTo", ())),
    )


def _text(found: dict[str, list[etree._Element]], name: str) -> str | None:
    blocks = found.get(name)
    if not blocks:
        return None
    return (blocks[0].text or "").strip()


def _address(found: dict[str, list[etree._Element]], name: str) -> str | None:
    blocks = found.get(name)
    if not blocks:
        return None
    address = next(blocks[0].iterchildren(WSA + "Address"), None)
    if address is None:
        raise invalid_header(name, f"wsa:{name} has no wsa:Address")
    return (address.text or "").strip()


def _reply_relation(blocks) -> str | None:
    # RelatesTo may repeat with different relationship types; the reply relation is the one
    # a synchronous requester correlates on.
    for block in blocks:
        if block.get("RelationshipType", REPLY_RELATIONSHIP) == REPLY_RELATIONSHIP:
            return (block.text or "").strip()
    return None


def request_headers(
    action: str, *, to: str | None = None, message_id: str | None = None, reply_to: str = ANONYMOUS
) -> list[etree._Element]:
    """Header blocks of a request: Action, MessageID, ReplyTo and (when given) To."""
    header = _header()
    _block(header, "Action", action, must_understand=True)
    _block(header, "MessageID", message_id or new_message_id())
    etree.SubElement(_block(header, "ReplyTo", None), WSA + "Address").text = reply_to
    if to:
        _block(header, "To", to, must_understand=True)
    return list(header)


def reply_headers(
    request: Addressing | None, action: str, *, message_id: str | None = None
) -> list[etree._Element]:
    """Header blocks of the synchronous reply to `request` (None when it could not be read)."""
    header = _header()
    _block(header, "Action", action, must_understand=True)
    _block(header, "MessageID", message_id or new_message_id())
    if request is not None and request.message_id:
        _block(header, "RelatesTo", request.message_id)
    # The reply goes back on the HTTP response whatever ReplyTo said: this is a synchronous
    # endpoint, and its back channel is the anonymous address.
    _block(header, "To", ANONYMOUS)
    return list(header)


def _header() -> etree._Element:
    # The blocks are made as children of one element: one document for all of them instead
    # of one per block is cheaper to create and to move into the envelope (every reply).
    return etree.Element(f"{{{SOAP12_NS}}}Header", nsmap={"env": SOAP12_NS, "wsa": WSA_NS})


def _block(header: etree._Element, name: str, text: str | None, *, must_understand: bool = False):
    element = etree.SubElement(header, WSA + name)
    if must_understand:
        element.set(_MUST_UNDERSTAND, "1")
    element.text = text
    return element


def header_required(name: str) -> SoapFault:
    """WS-Addressing SOAP Binding §6.4.4: a required addressing header is missing."""
    return SoapFault(
        faults.SENDER,
        f"A required header representing a Message Addressing Property is not present: wsa:{name}",
        subcode=faults.MESSAGE_ADDRESSING_HEADER_REQUIRED,
        detail=_problem_header(name),
    )


def invalid_header(name: str, reason: str, *, cardinality: bool = False) -> SoapFault:
    """WS-Addressing SOAP Binding §6.4.1: an addressing header is invalid."""
    chain = [faults.INVALID_ADDRESSING_HEADER]
    if cardinality:
        chain.append(faults.INVALID_CARDINALITY)
    return SoapFault(faults.SENDER, reason, subcode=chain, detail=_problem_header(name))


def action_not_supported(action: str) -> SoapFault:
    """WS-Addressing SOAP Binding §6.4.5: no operation for this wsa:Action."""
    problem = etree.Element(WSA + "ProblemAction", nsmap={"wsa": WSA_NS})
    etree.SubElement(problem, WSA + "Action").text = action
    return SoapFault(
        faults.SENDER,
        f"The endpoint does not support the action {action}",
        subcode=faults.ACTION_NOT_SUPPORTED,
        detail=problem,
    )


def _problem_header(name: str) -> etree._Element:
    problem = etree.Element(WSA + "ProblemHeaderQName", nsmap={"wsa": WSA_NS})
    problem.text = f"wsa:{name}"
    return problem
