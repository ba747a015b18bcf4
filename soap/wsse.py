"""The WS-Security header block: finding `wsse:Security` and the faults of its processing.

Owns what OASIS WSS SOAP Message Security 1.1 says about the header itself, nothing about the
tokens in it: the `wsse:Security` block addressed to this node (§6.1; one per role, a second
one for the same role is an error), and the fault subcodes of §12 answered under a SOAP 1.2
`env:Sender` fault. Token semantics (e.g. the SAML 2.0 assertion of the WSS SAML Token
Profile, as IHE ITI-40 XUA uses it) belong to the layers that process them.
"""
from __future__ import annotations

from lxml import etree

from soap import faults
from soap.faults import SoapFault
from soap.xml import SOAP12_NS

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SECURITY = f"{{{WSSE_NS}}}Security"

# WSS SOAP Message Security 1.1 §12, "unsupported" and "failure" classes.
UNSUPPORTED_SECURITY_TOKEN = f"{{{WSSE_NS}}}UnsupportedSecurityToken"
UNSUPPORTED_ALGORITHM = f"{{{WSSE_NS}}}UnsupportedAlgorithm"
INVALID_SECURITY = f"{{{WSSE_NS}}}InvalidSecurity"
INVALID_SECURITY_TOKEN = f"{{{WSSE_NS}}}InvalidSecurityToken"
FAILED_AUTHENTICATION = f"{{{WSSE_NS}}}FailedAuthentication"
FAILED_CHECK = f"{{{WSSE_NS}}}FailedCheck"
SECURITY_TOKEN_UNAVAILABLE = f"{{{WSSE_NS}}}SecurityTokenUnavailable"
MESSAGE_EXPIRED = f"{{{WSSE_NS}}}MessageExpired"
FAULT_SUBCODES = frozenset({
    UNSUPPORTED_SECURITY_TOKEN, UNSUPPORTED_ALGORITHM, INVALID_SECURITY, INVALID_SECURITY_TOKEN,
    FAILED_AUTHENTICATION, FAILED_CHECK, SECURITY_TOKEN_UNAVAILABLE, MESSAGE_EXPIRED,
})

_ROLE = f"{{{SOAP12_NS}}}role"
_OUR_ROLES = frozenset({SOAP12_NS + "/role/next", SOAP12_NS + "/role/ultimateReceiver"})


def security_header(header: etree._Element | None) -> etree._Element | None:
    """The one `wsse:Security` block for this node (no role, next or ultimateReceiver), or None.

    Two blocks for this node are ambiguous — which one would the signer have meant? — and are
    answered with wsse:InvalidSecurity (WSS 1.1 §6.1: at most one per role).
    """
    if header is None:
        return None
    blocks = [block for block in header.iterchildren(SECURITY)
              if block.get(_ROLE, SOAP12_NS + "/role/ultimateReceiver") in _OUR_ROLES]
    if len(blocks) > 1:
        raise security_fault(INVALID_SECURITY, f"{len(blocks)} wsse:Security header blocks for this node; "
                                               "at most one is allowed")
    return blocks[0] if blocks else None


def security_fault(subcode: str, reason: str) -> SoapFault:
    """An env:Sender fault with a WSS §12 subcode (SOAP 1.2 binding of the WSS fault codes)."""
    if subcode not in FAULT_SUBCODES:
        raise ValueError(f"not a WS-Security fault subcode: {subcode!r}")
    return SoapFault(faults.SENDER, reason, subcode=subcode)
