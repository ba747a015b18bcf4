"""A development XUA assertion issuer (IHE ITI-40 X-Assertion Provider; WSS SAML Token Profile 1.1).

For test set-ups and demos only: real assertions come from HelseID (health personnel) and
Helsenorge (citizens), PROFILE.md §6. This issuer makes assertions shaped like theirs, so a
node with XUA switched on can be exercised end to end without them:

- `AssertionSpec`: issuer, validity, audiences, NameID, confirmation method and the attributes;
- `personnel_attributes(...)`: the Norwegian attributes of a health professional (xdsno.xua.names,
  current names; `AssertionSpec.pre_2024_names` writes the former ones);
- `build_assertion(spec)`: the unsigned saml:Assertion (SAML 2.0 Core §2.3.3), with a
  ds:Signature placeholder right after saml:Issuer where the signature goes;
- `sign(assertion, key_pem, certificate)`: signed as HelseID does — enveloped, RSA-SHA256,
  SHA-256 digest, exclusive c14n with InclusiveNamespaces "xs", X.509 certificate in KeyInfo;
- `security_header(*tokens)`: a wsse:Security header block carrying them (WSS 1.1 §5).

The signing key and certificate are the files `xdsno certs issuer NAME` writes (xdsno.devcerts);
`xdsno xua assertion` (xdsno.xua_cli) is the command line.
"""
from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import SignatureReference, XMLSigner

from soap.wsse import SECURITY, WSSE_NS
from soap.xml import SOAP12_NS

from . import names as n

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
XS = "http://www.w3.org/2001/XMLSchema"
DEFAULT_LIFETIME = timedelta(hours=1)
UNSPECIFIED_NAME_ID = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRIBUTE_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

#: Display names of the purposes of use (2.16.840.1.113883.1.11.20448) health personnel state.
PURPOSES = {"TREAT": "Treatment", "ETREAT": "Emergency Treatment", "COC": "Coordination of care",
            "BTG": "Break the glass"}

# attribute → its pre-2024 name (the last listed); those without a former name keep the current one
PRE_2024 = {names[0]: names[-1] for names in n.ALL_ATTRIBUTES}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class AssertionSpec:
    """What `build_assertion` puts in. `attributes`: current name → values; a tuple value is a
    CE (code, codeSystem, displayName)."""

    issuer: str
    attributes: dict[str, list] = field(default_factory=dict)
    issued: datetime = field(default_factory=utc_now)
    lifetime: timedelta = DEFAULT_LIFETIME
    audiences: tuple[str, ...] = (n.HELSEID_AUDIENCE,)
    name_id: str | None = None
    method: str = n.BEARER
    pre_2024_names: bool = False
    assertion_id: str = field(default_factory=lambda: "_" + uuid.uuid4().hex)


def personnel_attributes(*, user_name: str, hpr_number: str | None = None, role: str | None = "LE",
                         organization_id: str | None = None, organization_name: str | None = None,
                         point_of_care_id: str | None = None, point_of_care_name: str | None = None,
                         facility_id: str | None = None, facility_name: str | None = None,
                         purpose_of_use: str | None = "TREAT", patient: str | None = None,
                         home_community_id: str | None = None, acp: str | None = None) -> dict[str, list]:
    """A health professional's attributes (PROFILE.md §6) in the order HelseID sends them;
    those given as None are left out. `role`: a Volven 9060 code; `purpose_of_use`: a code of
    2.16.840.1.113883.1.11.20448; `patient`: CX; `acp`: a policy URI or its last digit (0-8)."""
    values = [
        (n.SUBJECT_ID, user_name), (n.NPI, hpr_number),
        (n.ROLE, role and (role, n.ROLE_CODE_SYSTEM, role_display(role))),
        (n.ORGANIZATION, organization_name), (n.ORGANIZATION_ID, organization_id),
        (n.CHILD_ORGANIZATION, point_of_care_id), (n.CHILD_ORGANIZATION_NAME, point_of_care_name),
        (n.FACILITY, facility_id), (n.FACILITY_NAME, facility_name),
        (n.PURPOSE_OF_USE, purpose_of_use and (purpose_of_use, n.PURPOSE_OF_USE_CODE_SYSTEM,
                                               PURPOSES.get(purpose_of_use, purpose_of_use))),
        (n.RESOURCE_ID, patient), (n.HOME_COMMUNITY_ID, home_community_id), (n.ACP, acp and acp_uri(acp)),
    ]
    return {names[0]: [value] for names, value in values if value is not None}


def role_display(code: str) -> str:
    """The Volven 9060 display name of a role code (the code itself when the list lacks it)."""
    from profiles.norway.codesets import load_code_sets

    return load_code_sets()["9060"].display(code) or code


def acp_uri(acp: str) -> str:
    """`urn:ihe:iti:xua:2012:acp` value: a digit N becomes urn:oid:2.16.578.1.12.4.1.7.2.1.N."""
    return n.ACP_PREFIX + acp if acp.isdigit() else acp


def _s(tag: str) -> str:
    return f"{{{n.SAML}}}{tag}"


def saml_time(moment: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as SAML issuers write it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_assertion(spec: AssertionSpec) -> etree._Element:
    """An unsigned assertion with a ds:Signature placeholder after saml:Issuer."""
    assertion = etree.Element(_s("Assertion"), nsmap={"saml": n.SAML, "xs": XS, "xsi": n.XSI},
                              ID=spec.assertion_id, Version="2.0", IssueInstant=saml_time(spec.issued))
    etree.SubElement(assertion, _s("Issuer")).text = spec.issuer
    etree.SubElement(assertion, f"{{{n.DS}}}Signature", Id="placeholder", nsmap={"ds": n.DS})
    _add_subject(assertion, spec)
    end = saml_time(spec.issued + spec.lifetime)
    conditions = etree.SubElement(assertion, _s("Conditions"), NotBefore=saml_time(spec.issued), NotOnOrAfter=end)
    restriction = etree.SubElement(conditions, _s("AudienceRestriction"))
    for audience in spec.audiences:
        etree.SubElement(restriction, _s("Audience")).text = audience
    statement = etree.SubElement(assertion, _s("AuthnStatement"), AuthnInstant=saml_time(spec.issued))
    context = etree.SubElement(statement, _s("AuthnContext"))
    etree.SubElement(context, _s("AuthnContextClassRef")).text = PASSWORD_PROTECTED
    _add_attributes(etree.SubElement(assertion, _s("AttributeStatement")), spec)
    return assertion


def _add_subject(assertion: etree._Element, spec: AssertionSpec) -> None:
    subject = etree.SubElement(assertion, _s("Subject"))
    if spec.name_id is not None:
        etree.SubElement(subject, _s("NameID"), Format=UNSPECIFIED_NAME_ID).text = spec.name_id
    confirmation = etree.SubElement(subject, _s("SubjectConfirmation"), Method=spec.method)
    etree.SubElement(confirmation, _s("SubjectConfirmationData"),
                     NotOnOrAfter=saml_time(spec.issued + spec.lifetime))


def _add_attributes(statement: etree._Element, spec: AssertionSpec) -> None:
    for name, values in spec.attributes.items():
        written = PRE_2024.get(name, name) if spec.pre_2024_names else name
        attribute = etree.SubElement(statement, _s("Attribute"), Name=written, NameFormat=ATTRIBUTE_URI)
        for value in values:
            element = etree.SubElement(attribute, _s("AttributeValue"))
            if isinstance(value, tuple):
                code, system, display = value
                tag = "Role" if name == n.ROLE[0] else "PurposeOfUse"
                ce = etree.SubElement(element, f"{{{n.HL7}}}{tag}", nsmap={None: n.HL7},
                                      code=code, codeSystem=system, displayName=display)
                ce.set(f"{{{n.XSI}}}type", "CE")
            else:
                element.set(f"{{{n.XSI}}}type", "xs:string")
                element.text = value


def sign(assertion: etree._Element, key_pem: bytes, certificates: x509.Certificate | Sequence[x509.Certificate],
         *, c14n: str = EXC_C14N, signature_algorithm: str = "rsa-sha256") -> etree._Element:
    """The assertion signed as HelseID does: enveloped, exclusive c14n, RSA-SHA256, x509 in KeyInfo."""
    certs = [certificates] if isinstance(certificates, x509.Certificate) else list(certificates)
    signer = XMLSigner(signature_algorithm=signature_algorithm, digest_algorithm="sha256", c14n_algorithm=c14n)
    reference_uri = "#" + assertion.get("ID")
    if c14n != EXC_C14N:
        return signer.sign(assertion, key=key_pem, cert=certs, reference_uri=reference_uri, id_attribute="ID")
    if signature_algorithm != "rsa-sha256":
        raise ValueError("an exclusive-c14n signature is made with rsa-sha256 only")
    key = load_signing_key(key_pem)
    # InclusiveNamespaces "xs" on the reference, as OpenSAML-style signers do for xsi:type="xs:string":
    # the digest then covers the xs declaration, wherever in scope it is declared.
    reference = SignatureReference(reference_uri, inclusive_ns_prefixes=["xs"])
    signed = signer.sign(assertion, key=key_pem, cert=certs, reference_uri=[reference], id_attribute="ID")
    return _with_transform_prefix_list(signed, key, "xs")


def _with_transform_prefix_list(signed: etree._Element, key: rsa.RSAPrivateKey, prefixes: str) -> etree._Element:
    """signxml 5.2 digests with the prefix list but leaves it out of an enveloped Reference's
    c14n Transform; put it there and sign SignedInfo again."""
    ds = f"{{{n.DS}}}"
    signed_info = signed.find(f"{ds}Signature/{ds}SignedInfo")
    transform = signed_info.find(f"{ds}Reference/{ds}Transforms/{ds}Transform[@Algorithm='{EXC_C14N}']")
    etree.SubElement(transform, f"{{{EXC_C14N}}}InclusiveNamespaces", nsmap={"ec": EXC_C14N}, PrefixList=prefixes)
    c14n = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = key.sign(c14n, padding.PKCS1v15(), hashes.SHA256())
    signed.find(f"{ds}Signature/{ds}SignatureValue").text = base64.b64encode(value).decode()
    return signed


def load_signing_key(key_pem: bytes) -> rsa.RSAPrivateKey:
    """The RSA private key of a PEM (ValueError for anything else: XUA signs RSA-SHA256)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the signing key must be RSA (XUA assertions are signed RSA-SHA256; "
                         "`xdsno certs issuer` makes RSA by default)")
    return key


def security_header(*tokens: etree._Element, must_understand: bool = True) -> etree._Element:
    """wsse:Security holding the tokens (copies), as a consumer sends it."""
    header = etree.Element(SECURITY, nsmap={"wsse": WSSE_NS, "env": SOAP12_NS})
    if must_understand:
        header.set(f"{{{SOAP12_NS}}}mustUnderstand", "true")
    header.extend(copy.deepcopy(token) for token in tokens)
    return header
