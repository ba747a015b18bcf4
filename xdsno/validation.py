"""Validation as a service: one message's bytes (and Content-Type) → the issues a profile finds,
storing nothing. Used by `xdsno validate FILE` and `POST /validate`.

What it reads (detected, DESIGN.md §3 passes without the dispatch):
- a bare body: lcm:SubmitObjectsRequest (ITI-42) or xdsb:ProvideAndRegisterDocumentSetRequest
  (ITI-41), as XML;
- a SOAP envelope around one (SOAP 1.2, or 1.1 as some tools still write it);
- an MTOM/XOP package (`multipart/related`): given its Content-Type, or as a whole capture
  starting with its MIME headers (`Content-Type: multipart/related; ...`, optionally after an
  HTTP request line), or starting at its first `--boundary` line.

The transaction follows the body (ITI-41 for ProvideAndRegister, else ITI-42) unless asked for:
ITI-42 of a ProvideAndRegister judges its SubmitObjectsRequest as the registry will see it; a
bare SubmitObjectsRequest cannot be judged as ITI-41 (it carries no documents).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, Mapping

from lxml import etree

from profiles.ebrim import decode_provide_and_register, decode_submit_objects_request
from profiles.errors import Issue
from profiles.rules import Profile, Transaction, ValidationContext
from profiles.vocabulary import LCM, XDSB
from soap.faults import SoapFault
from soap.mime import MtomError, parse_media_type
from soap.mtom import parse_multipart, resolve_xop
from soap.xml import DEFAULT_MAX_XML_BYTES, SOAP11_NS, SOAP12_NS, XmlRejected, parse_xml

SUBMIT = f"{{{LCM}}}SubmitObjectsRequest"
PROVIDE = f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest"
TRANSACTIONS = ("ITI-41", "ITI-42")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(rb"[A-Z]+ \S+ HTTP/\d(?:\.\d)?\r?\n")


class MessageError(ValueError):
    """The bytes are no message this service can judge; the text says why."""


@dataclass(frozen=True)
class ValidationResult:
    """What one message was read as and every issue found in it."""

    transaction: Transaction
    issues: tuple[Issue, ...]

    @property
    def valid(self) -> bool:
        return not any(issue.is_error for issue in self.issues)


def validate_message(data: bytes, content_type: str | None, profile: Profile, *,
                     transaction: str | Transaction | None = None, strict: bool = True,
                     patient_domains: tuple[str, ...] = (), extras: Mapping[str, Any] | None = None,
                     max_xml_bytes: int = DEFAULT_MAX_XML_BYTES) -> ValidationResult:
    """Judge one SubmitObjectsRequest / ProvideAndRegisterDocumentSetRequest; MessageError when
    the bytes cannot be read as one."""
    payload = read_payload(data, content_type, max_xml_bytes)
    chosen = _transaction(payload, transaction)
    submission, documents, issues = _decode(payload, chosen)
    context = ValidationContext(chosen, documents_attached=documents, strict=strict,
                                patient_domains=tuple(patient_domains), **({"extras": extras} if extras else {}))
    return ValidationResult(chosen, tuple(issues + profile.validate(submission, context)))


# --- reading -------------------------------------------------------------------------------

def read_payload(data: bytes, content_type: str | None, max_xml_bytes: int = DEFAULT_MAX_XML_BYTES) -> etree._Element:
    """The request element inside whatever framing the bytes have."""
    if not content_type or not content_type.strip():
        content_type, data = sniff(data)
    mime, _ = parse_media_type(content_type)
    try:
        if mime == "multipart/related":
            return _from_mtom(data, content_type, max_xml_bytes)
        return unwrap(parse_xml(data, max_bytes=max_xml_bytes))
    except (XmlRejected, MtomError, SoapFault) as exc:
        raise MessageError(f"cannot read the message: {exc}") from None


def sniff(data: bytes) -> tuple[str, bytes]:
    """(Content-Type, body) of bytes that came without one: XML, a MIME capture, or a bare multipart."""
    start = data.lstrip()
    if start.startswith(b"<") or start.startswith(b"\xef\xbb\xbf<"):
        return "application/xml", data
    if start.startswith(b"--"):
        boundary = start.split(b"\n", 1)[0].strip()[2:].decode("ascii", "replace")
        return f'multipart/related; type="application/xop+xml"; boundary="{boundary}"', start
    return _split_capture(start)


def _split_capture(data: bytes) -> tuple[str, bytes]:
    """MIME (or HTTP) headers, a blank line, the body."""
    data = data[_REQUEST_LINE.match(data).end():] if _REQUEST_LINE.match(data) else data
    end = _HEADER_END.search(data)
    if end is None:
        raise MessageError("neither XML nor a MIME capture (no header block ending in a blank line)")
    headers = re.sub(r"\r?\n[ \t]+", " ", data[:end.start()].decode("latin-1"))  # unfold (RFC 5322)
    for line in headers.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            return value.strip(), data[end.end():]
    raise MessageError("the capture's headers have no Content-Type")


def _from_mtom(data: bytes, content_type: str, max_xml_bytes: int) -> etree._Element:
    package = parse_multipart(io.BytesIO(data), content_type, _discard_sink, max_root_bytes=max_xml_bytes)
    try:
        root = parse_xml(package.root, max_bytes=max_xml_bytes)
        resolve_xop(root, package.attachments)
        return unwrap(root)
    finally:
        for attachment in package.attachments.values():
            attachment.close()


class _Discard:
    """An attachment sink that keeps nothing: validation needs to know a part came, not its bytes."""

    def write(self, data: bytes) -> None:
        pass


def _discard_sink(_content_id: str, _content_type: str) -> _Discard:
    return _Discard()


def unwrap(root: etree._Element) -> etree._Element:
    """The first element in the Body of a SOAP 1.2 / 1.1 envelope, or the root itself."""
    if root.tag not in (f"{{{SOAP12_NS}}}Envelope", f"{{{SOAP11_NS}}}Envelope"):
        return root
    namespace = etree.QName(root).namespace
    body = root.find(f"{{{namespace}}}Body")
    payload = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if payload is None:
        raise MessageError("the SOAP envelope has an empty or no Body")
    return payload


# --- judging -------------------------------------------------------------------------------

def _transaction(payload: etree._Element, asked: str | Transaction | None) -> Transaction:
    if payload.tag not in (SUBMIT, PROVIDE):
        raise MessageError(f"expected lcm:SubmitObjectsRequest (ITI-42) or "
                           f"xdsb:ProvideAndRegisterDocumentSetRequest (ITI-41), found {payload.tag}")
    natural = Transaction.PROVIDE_AND_REGISTER if payload.tag == PROVIDE else Transaction.REGISTER
    if asked is None:
        return natural
    if str(asked) not in TRANSACTIONS:
        raise MessageError(f"transaction {asked!r}: use {' or '.join(TRANSACTIONS)}")
    chosen = Transaction(str(asked))
    if chosen is Transaction.PROVIDE_AND_REGISTER and natural is Transaction.REGISTER:
        raise MessageError("a bare SubmitObjectsRequest is an ITI-42 body; ITI-41 is a "
                           "ProvideAndRegisterDocumentSetRequest with its documents")
    return chosen


def _decode(payload: etree._Element, transaction: Transaction):
    """(submission, ids of the attached documents, codec issues)."""
    if payload.tag == SUBMIT:
        submission, issues = decode_submit_objects_request(payload)
        return submission, frozenset(), issues
    if transaction is Transaction.REGISTER:
        inner = payload.find(SUBMIT)
        if inner is None:
            raise MessageError("the ProvideAndRegisterDocumentSetRequest has no lcm:SubmitObjectsRequest")
        submission, issues = decode_submit_objects_request(inner)
        return submission, frozenset(), issues
    submission, documents, issues = decode_provide_and_register(payload)
    return submission, frozenset(documents), issues


def issue_json(issue: Issue) -> dict[str, str]:
    """One issue as `POST /validate` answers it (severity as `error` / `warning`)."""
    return {"code": issue.code.value, "severity": "error" if issue.is_error else "warning",
            "location": issue.location, "context": issue.context}
