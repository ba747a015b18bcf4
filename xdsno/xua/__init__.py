"""Cross-Enterprise User Assertion (IHE XUA, ITI-40) on the X-Service Provider side.

The consumer's SAML 2.0 identity assertion arrives in the WS-Security header (WSS SAML Token
Profile 1.1), signed by HelseID (health personnel) or Helsenorge (citizens) — PROFILE.md §6.
Modules: names (SAML namespaces, Norwegian attribute names current and pre-2024), config
(trusted issuers, audiences, skew; XuaError), signature (signxml verification, wrapping
resistance), conditions (validity, audience, bearer subject), assertion (the `Assertion` read
from the verified element), verify (`verify_assertion`), enforcement (the SoapRouter hook that
requires and exposes the assertion per endpoint).
"""
from .assertion import Assertion, CodedValue
from .config import XuaConfig, XuaError, issuer_certificates, load_certificates
from .verify import find_assertion, verify_assertion

__all__ = ["Assertion", "CodedValue", "XuaConfig", "XuaError", "find_assertion", "issuer_certificates",
           "load_certificates", "verify_assertion"]
