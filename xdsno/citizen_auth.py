"""The citizen's own access to the innsynslogg (PROFILE.md §6): a Helsenorge XUA assertion sent
with `GET /innsynslogg?patient=CX`.

HTTP header convention (this software's choice; IHE defines no HTTP binding of a SAML identity
assertion for a JSON read): the assertion element, as its issuer signed it, base64-encoded
(RFC 4648 §4, or the URL-safe alphabet of §5; padding optional) in

    Authorization: SAML <base64 of the saml:Assertion XML>

It is verified exactly as a wsse:Security assertion on the SOAP endpoints (xdsno.xua
`verify_assertion`, IHE ITI TF-2 3.40.4.2) with the node's `xua_issuer_certs`, `xua_audiences`
and `xua_clock_skew_seconds`: signature by a trusted issuer, validity period, audience, bearer.
Then it must be a citizen's (no HPR number; xdsno.policy.subject) naming a patient
(resource-id), and every `patient` asked for must be that patient (CX id number and assigning
authority compared). A health personnel assertion does not open the log: administrators use a
bearer token (xdsno.admin_auth).

`citizen_access` returns the verified Assertion, or raises CitizenRefused with the HTTP status
(401: no usable assertion, the client may get a new one; 403: a valid assertion that does not
give access to this log, carried along so the audit record names who asked) and a reason.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from soap.xml import XmlRejected, parse_xml
from xdsno.policy.subject import from_assertion, patient_key
from xdsno.xua import Assertion, XuaConfig, XuaError, verify_assertion

SCHEME = "SAML"
#: a signed assertion is a few KiB; refuse more before decoding
MAX_ASSERTION_BYTES = 64 * 1024


class CitizenRefused(Exception):
    """Refused: `assertion` is the verified one when it was valid but gives no access here."""

    def __init__(self, status: int, reason: str, assertion: Assertion | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.assertion = assertion


def citizen_access(credentials: str, environ: Mapping[str, Any], config: XuaConfig) -> Assertion:
    """The verified citizen assertion of `Authorization: SAML <credentials>` giving access to
    the innsynslogg of every `patient` in the query string."""
    assertion = _verified(_decoded(credentials), config)
    subject = from_assertion(assertion)
    if subject.is_personnel:
        raise CitizenRefused(403, "a health personnel assertion (with an HPR number) does not open the "
                                  "innsynslogg; a citizen sends their own Helsenorge assertion, an "
                                  "administrator an admin bearer token", assertion)
    own = patient_key(subject.patient_id)
    if own is None:
        raise CitizenRefused(403, "the assertion names no patient (resource-id)", assertion)
    asked = parse_qs(environ.get("QUERY_STRING", "")).get("patient", [])
    if any(patient_key(patient) != own for patient in asked):
        raise CitizenRefused(403, "a citizen sees only their own innsynslogg: the patient asked for is not "
                                  "the assertion's patient (resource-id)", assertion)
    return assertion


def _decoded(credentials: str) -> bytes:
    text = "".join(credentials.split())
    if len(text) > MAX_ASSERTION_BYTES * 4 // 3 + 4:
        raise CitizenRefused(401, f"the assertion is larger than {MAX_ASSERTION_BYTES} bytes")
    text += "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CitizenRefused(401, "Authorization: SAML needs the base64 of the saml:Assertion XML") from None


def _verified(data: bytes, config: XuaConfig) -> Assertion:
    try:
        element = parse_xml(data, max_bytes=MAX_ASSERTION_BYTES)
    except XmlRejected as exc:
        raise CitizenRefused(401, f"the SAML credentials are not an XML assertion: {exc}") from None
    try:
        return verify_assertion(element, config)
    except XuaError as exc:
        raise CitizenRefused(401, f"XUA assertion refused: {exc.reason}") from None

