"""The enveloped XML signature of a SAML 2.0 assertion (SAML Core §5.4; IHE ITI TF-2 3.40.4.1.1;
WSS SAML Token Profile 1.1 §3.5), verified with signxml against configured issuer certificates.

`verified_assertion` returns the element signxml rebuilt from the canonical bytes the digest was
computed over (`VerifyResult.signed_xml`): only what was signed, with the signature removed.
Everything after this step reads that element and nothing else, so content an attacker puts
around or beside the signed assertion (signature wrapping) is never looked at. In addition the
one Reference must point at the enclosing assertion (`#` + its ID, SAML Core §5.4.2), IDs must
be unambiguous (signxml), and only RSA-SHA256/384/512, SHA-256/384/512 digests, exclusive c14n
and the enveloped-signature transform are accepted (SAML Core §5.4.3-5.4.4).
"""
from __future__ import annotations

from datetime import datetime

from cryptography import x509
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SignXMLException

from soap.wsse import FAILED_AUTHENTICATION, FAILED_CHECK, UNSUPPORTED_ALGORITHM

from .config import XuaError
from .names import ASSERTION, DS

SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512})
DIGEST_ALGORITHMS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
EXCLUSIVE_C14N = frozenset({CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
                            CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS.value})
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_SIGNATURE = f"{{{DS}}}Signature"


def verified_assertion(assertion: etree._Element, certificates: tuple[x509.Certificate, ...],
                       now: datetime) -> etree._Element:
    """The signed content of `assertion`, verified with one of `certificates`; XuaError if none fits."""
    signature = assertion.find(_SIGNATURE)
    if signature is None:
        raise XuaError(FAILED_AUTHENTICATION, "the assertion is not signed (no ds:Signature in it)")
    _check_algorithms(signature)
    failures = []
    for certificate in certificates:
        try:
            result = _verify(assertion, certificate, now)
        except InvalidDigest as exc:
            # SignedInfo verified with this key, so the content changed after signing.
            raise XuaError(FAILED_CHECK, f"the assertion was altered after it was signed ({exc})") from None
        except InvalidCertificate as exc:
            failures.append(f"configured certificate not valid now: {exc}")
        except InvalidSignature:
            failures.append(f"not signed by the key of {certificate.subject.rfc4514_string()}")
        except (InvalidInput, SignXMLException, etree.LxmlError, ValueError) as exc:
            raise XuaError(FAILED_CHECK, f"the assertion's signature cannot be checked: {exc}") from None
        else:
            return _signed_assertion(assertion, result)
    raise XuaError(FAILED_AUTHENTICATION, "the assertion's signature does not verify with the issuer's "
                                          "certificate: " + "; ".join(failures))


def _verify(assertion: etree._Element, certificate: x509.Certificate, now: datetime):
    config = SignatureConfiguration(
        location="./", expect_references=1, signature_methods=SIGNATURE_METHODS,
        digest_algorithms=DIGEST_ALGORITHMS, verification_time=now,
    )
    # No XML Schema validation of ds:Signature: the bundled xmldsig schema rejects an
    # ec:InclusiveNamespaces in CanonicalizationMethod, which exclusive c14n allows and signers
    # send; _check_algorithms and signxml's own lookups hold the structure we rely on.
    return XMLVerifier().verify(assertion, x509_cert=certificate, id_attribute="ID", validate_schema=False,
                                expect_config=config)


def _signed_assertion(assertion: etree._Element, result) -> etree._Element:
    """The verified element, which must be the assertion the signature sits in (SAML Core §5.4.2)."""
    signed = result.signed_xml
    assertion_id = assertion.get("ID")
    references = result.signature_xml.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if (signed is None or signed.tag != ASSERTION or not assertion_id or signed.get("ID") != assertion_id
            or [ref.get("URI") for ref in references] != ["#" + assertion_id]):
        raise XuaError(FAILED_CHECK, "the signature does not cover the assertion it is in "
                                     "(its Reference must be #ID of the enclosing saml:Assertion)")
    return signed


def _check_algorithms(signature: etree._Element) -> None:
    """Refuse algorithms outside SAML Core §5.4 and our list before spending time on them."""
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    if signed_info is None:
        raise XuaError(FAILED_CHECK, "ds:Signature has no ds:SignedInfo")
    method = _algorithm(signed_info, "SignatureMethod")
    if method not in {m.value for m in SIGNATURE_METHODS}:
        raise XuaError(UNSUPPORTED_ALGORITHM, f"signature method {method} is not accepted (use RSA-SHA256)")
    c14n = _algorithm(signed_info, "CanonicalizationMethod")
    if c14n not in EXCLUSIVE_C14N:
        raise XuaError(UNSUPPORTED_ALGORITHM, f"canonicalization {c14n} is not accepted (use exclusive c14n)")
    for reference in signed_info.iterfind(f"{{{DS}}}Reference"):
        digest = _algorithm(reference, "DigestMethod")
        if digest not in {d.value for d in DIGEST_ALGORITHMS}:
            raise XuaError(UNSUPPORTED_ALGORITHM, f"digest method {digest} is not accepted (use SHA-256)")
        transforms = [t.get("Algorithm") for t in reference.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")]
        if ENVELOPED not in transforms or any(t not in EXCLUSIVE_C14N | {ENVELOPED} for t in transforms):
            raise XuaError(UNSUPPORTED_ALGORITHM, f"reference transforms {transforms} are not accepted "
                                                  "(enveloped-signature, then exclusive c14n)")


def _algorithm(parent: etree._Element, name: str) -> str | None:
    element = parent.find(f"{{{DS}}}{name}")
    return element.get("Algorithm") if element is not None else None
