"""`verify_assertion`: the X-Service Provider's check of an ITI-40 XUA identity assertion
(IHE ITI TF-2 3.40.4.2) carried in the WS-Security header (WSS SAML Token Profile 1.1 §3).

Order: find the one saml:Assertion directly in wsse:Security → choose the certificates
configured for the Issuer it names → verify its enveloped signature with signxml and keep only
the verified element → from that element: the Issuer is the one whose certificate verified,
validity period, audience, bearer subject → read the Norwegian attributes. Any failure raises
XuaError with the WS-Security 1.1 §12 fault subcode that describes it.
"""
from __future__ import annotations

from lxml import etree

from soap.wsse import FAILED_AUTHENTICATION, INVALID_SECURITY, SECURITY, UNSUPPORTED_SECURITY_TOKEN

from .assertion import Assertion, read_assertion
from .conditions import check_assertion
from .config import XuaConfig, XuaError
from .names import ASSERTION, SAML
from .signature import verified_assertion

_SAML1_ASSERTION = "{urn:oasis:names:tc:SAML:1.0:assertion}Assertion"


def verify_assertion(element: etree._Element, config: XuaConfig) -> Assertion:
    """The verified Assertion in a wsse:Security header block (or a bare saml:Assertion)."""
    security_header = element if element.tag == SECURITY else None
    assertion = find_assertion(element)
    now = config.now()
    issuer = (assertion.findtext(f"{{{SAML}}}Issuer") or "").strip()
    certificates = config.trusted_issuers.get(issuer)
    if not certificates:
        raise XuaError(FAILED_AUTHENTICATION, f"assertion issuer {issuer or '(none)'!r} is not trusted here")
    signed = verified_assertion(assertion, certificates, now)
    signed_issuer = (signed.findtext(f"{{{SAML}}}Issuer") or "").strip()
    if signed_issuer != issuer:  # cannot differ unless the element changed under us; cheap to be sure
        raise XuaError(FAILED_AUTHENTICATION, f"signed Issuer {signed_issuer!r} is not {issuer!r}")
    check_assertion(signed, config, now)
    return read_assertion(signed, element=assertion, security_header=security_header)


def find_assertion(element: etree._Element) -> etree._Element:
    """The one SAML 2.0 Assertion that is a direct child of wsse:Security (or `element` itself).

    Only direct children count: an assertion nested deeper (in a wrapper, in another token) is
    not the token of this header, and two assertions leave it unclear which one speaks.
    """
    if element.tag == ASSERTION:
        return element
    if element.tag != SECURITY:
        raise XuaError(INVALID_SECURITY, f"expected wsse:Security or saml:Assertion, got {element.tag}")
    found = list(element.iterchildren(ASSERTION))
    if len(found) == 1:
        return found[0]
    if found:
        raise XuaError(INVALID_SECURITY, f"{len(found)} SAML assertions in wsse:Security; exactly one is allowed")
    if any(True for _ in element.iterchildren(_SAML1_ASSERTION)):
        raise XuaError(UNSUPPORTED_SECURITY_TOKEN, "SAML 1.1 assertions are not supported; send SAML 2.0")
    raise XuaError(INVALID_SECURITY, "wsse:Security holds no SAML 2.0 assertion")
