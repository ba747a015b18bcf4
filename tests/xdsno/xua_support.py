"""XUA assertions built and signed in the tests (IHE ITI-40; WSS SAML Token Profile 1.1).

A test CA issues the certificate of the trusted issuer ("HelseID test"); an attacker has a key
and a self-signed certificate of the same subject. `build_assertion` makes a HelseID-like
health-personnel assertion with the Norwegian attributes under their current names (or the
pre-2024 ones); `sign` signs it as issuers do (enveloped, RSA-SHA256, SHA-256, exclusive c14n,
ds:Signature right after saml:Issuer); `security_header` wraps it in wsse:Security.
"""
from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureReference, XMLSigner

from soap.wsse import SECURITY, WSSE_NS
from soap.xml import SOAP12_NS
from xdsno.xua import XuaConfig
from xdsno.xua import names as n

ISSUER = "https://helseid-sts.test.nhn.no"
OTHER_ISSUER = "https://helsenorge.test.no/saml"
AUDIENCE = n.HELSEID_AUDIENCE
NOW = datetime(2025, 3, 4, 10, 0, 0, tzinfo=timezone.utc)
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
XS = "http://www.w3.org/2001/XMLSchema"
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
HOME = "urn:oid:2.16.578.1.12.4.1.7.1.999"
ACP_EXPLICIT = n.ACP_PREFIX + "5"

# attribute → (current name, pre-2024 name); those without a former name use the current one
PRE_2024 = {names[0]: names[-1] for names in n.ALL_ATTRIBUTES}


@dataclass(frozen=True)
class KeyPair:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xdsno test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer_name: x509.Name, signing_key, *, ca: bool) -> x509.Certificate:
    start = datetime.now(timezone.utc) - timedelta(days=3650)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=7300))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(signing_key, hashes.SHA256()))


@cache
def test_ca() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(key, _certificate("xdsno test CA", key, _name("xdsno test CA"), key, ca=True))


@cache
def issuer_keys(subject: str = "HelseID test signing") -> KeyPair:
    """A signing key whose certificate the test CA issued."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = test_ca()
    return KeyPair(key, _certificate(subject, key, ca.cert.subject, ca.key, ca=False))


@cache
def attacker_keys() -> KeyPair:
    """Same subject as the issuer's certificate, another key, self-signed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(key, _certificate("HelseID test signing", key, _name("HelseID test signing"), key, ca=False))


def config(*, now: datetime = NOW, skew: timedelta = timedelta(minutes=5), **issuers) -> XuaConfig:
    trusted = {ISSUER: (issuer_keys().cert,), OTHER_ISSUER: (issuer_keys("Helsenorge test signing").cert,)}
    return XuaConfig(trusted, audiences=frozenset({AUDIENCE}), clock_skew=skew, now=lambda: now)


@dataclass
class AssertionSpec:
    """What `build_assertion` puts in; each test changes one thing."""

    issuer: str = ISSUER
    issued: datetime = NOW - timedelta(minutes=1)
    lifetime: timedelta = timedelta(hours=1)
    audiences: tuple[str, ...] = (AUDIENCE,)
    name_id: str = "Kari Nordmann"
    method: str = n.BEARER
    pre_2024_names: bool = False
    attributes: dict[str, list] = field(default_factory=lambda: default_attributes())
    assertion_id: str = field(default_factory=lambda: "_" + uuid.uuid4().hex)


def default_attributes() -> dict[str, list]:
    """Current name → values; a tuple value is a CE (code, codeSystem, displayName)."""
    return {
        n.SUBJECT_ID[0]: ["Kari Nordmann"],
        n.NPI[0]: ["565505933"],
        n.ROLE[0]: [("LE", n.ROLE_CODE_SYSTEM, "Lege")],
        n.ORGANIZATION[0]: ["Helse Vest RHF"],
        n.ORGANIZATION_ID[0]: ["983658725"],
        n.CHILD_ORGANIZATION[0]: ["974557746"],
        n.CHILD_ORGANIZATION_NAME[0]: ["Haukeland universitetssjukehus"],
        n.FACILITY[0]: ["4208723"],
        n.FACILITY_NAME[0]: ["Medisinsk avdeling"],
        n.PURPOSE_OF_USE[0]: [("TREAT", n.PURPOSE_OF_USE_CODE_SYSTEM, "Treatment")],
        n.RESOURCE_ID[0]: [PATIENT],
        n.HOME_COMMUNITY_ID[0]: [HOME],
        n.ACP[0]: [ACP_EXPLICIT],
    }


def _s(tag: str) -> str:
    return f"{{{n.SAML}}}{tag}"


def _time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_assertion(spec: AssertionSpec | None = None) -> etree._Element:
    """An unsigned assertion with a ds:Signature placeholder after saml:Issuer."""
    spec = spec or AssertionSpec()
    nsmap = {"saml": n.SAML, "xs": XS, "xsi": n.XSI}
    assertion = etree.Element(_s("Assertion"), nsmap=nsmap, ID=spec.assertion_id, Version="2.0",
                              IssueInstant=_time(spec.issued))
    etree.SubElement(assertion, _s("Issuer")).text = spec.issuer
    etree.SubElement(assertion, f"{{{n.DS}}}Signature", Id="placeholder", nsmap={"ds": n.DS})
    subject = etree.SubElement(assertion, _s("Subject"))
    if spec.name_id is not None:
        etree.SubElement(subject, _s("NameID"),
                         Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified").text = spec.name_id
    confirmation = etree.SubElement(subject, _s("SubjectConfirmation"), Method=spec.method)
    etree.SubElement(confirmation, _s("SubjectConfirmationData"), NotOnOrAfter=_time(spec.issued + spec.lifetime))
    conditions = etree.SubElement(assertion, _s("Conditions"), NotBefore=_time(spec.issued),
                                  NotOnOrAfter=_time(spec.issued + spec.lifetime))
    restriction = etree.SubElement(conditions, _s("AudienceRestriction"))
    for audience in spec.audiences:
        etree.SubElement(restriction, _s("Audience")).text = audience
    statement = etree.SubElement(assertion, _s("AuthnStatement"), AuthnInstant=_time(spec.issued))
    etree.SubElement(etree.SubElement(statement, _s("AuthnContext")), _s("AuthnContextClassRef")).text = \
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    _add_attributes(etree.SubElement(assertion, _s("AttributeStatement")), spec)
    return assertion


def _add_attributes(statement: etree._Element, spec: AssertionSpec) -> None:
    for name, values in spec.attributes.items():
        attribute = etree.SubElement(statement, _s("Attribute"), Name=PRE_2024.get(name, name) if spec.pre_2024_names
                                     else name, NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
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


def sign(assertion: etree._Element, keys: KeyPair | None = None, *, c14n: str = EXC_C14N,
         signature_algorithm: str = "rsa-sha256") -> etree._Element:
    """The assertion signed as HelseID does: enveloped, exclusive c14n, RSA-SHA256, x509 in KeyInfo."""
    keys = keys or issuer_keys()
    signer = XMLSigner(signature_algorithm=signature_algorithm, digest_algorithm="sha256", c14n_algorithm=c14n)
    if c14n != EXC_C14N:
        return signer.sign(assertion, key=keys.key_pem, cert=[keys.cert], reference_uri="#" + assertion.get("ID"),
                           id_attribute="ID")
    # InclusiveNamespaces "xs" on the reference, as OpenSAML-style signers do for xsi:type="xs:string":
    # the digest then covers the xs declaration, wherever in scope it is declared.
    reference = SignatureReference("#" + assertion.get("ID"), inclusive_ns_prefixes=["xs"])
    signed = signer.sign(assertion, key=keys.key_pem, cert=[keys.cert], reference_uri=[reference], id_attribute="ID")
    return _with_transform_prefix_list(signed, keys, "xs")


def _with_transform_prefix_list(signed: etree._Element, keys: KeyPair, prefixes: str) -> etree._Element:
    """signxml 5.2 digests with the prefix list but leaves it out of an enveloped Reference's
    c14n Transform; put it there and sign SignedInfo again."""
    ds = f"{{{n.DS}}}"
    signed_info = signed.find(f"{ds}Signature/{ds}SignedInfo")
    transform = signed_info.find(f"{ds}Reference/{ds}Transforms/{ds}Transform[@Algorithm='{EXC_C14N}']")
    etree.SubElement(transform, f"{{{EXC_C14N}}}InclusiveNamespaces", nsmap={"ec": EXC_C14N}, PrefixList=prefixes)
    c14n = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = keys.key.sign(c14n, padding.PKCS1v15(), hashes.SHA256())
    signed.find(f"{ds}Signature/{ds}SignatureValue").text = base64.b64encode(value).decode()
    return signed


def signed_assertion(spec: AssertionSpec | None = None, keys: KeyPair | None = None) -> etree._Element:
    return sign(build_assertion(spec), keys)


def security_header(*tokens: etree._Element, must_understand: bool = True) -> etree._Element:
    """wsse:Security holding the tokens (copies), as a consumer sends it."""
    header = etree.Element(SECURITY, nsmap={"wsse": WSSE_NS, "env": SOAP12_NS})
    if must_understand:
        header.set(f"{{{SOAP12_NS}}}mustUnderstand", "true")
    header.extend(copy.deepcopy(token) for token in tokens)
    return header


def fresh_spec(*, issued_in: timedelta = timedelta(0), lifetime: timedelta = timedelta(hours=1),
               **changes) -> AssertionSpec:
    """A spec at the real current time (for the running server): issued now + `issued_in`,
    valid until `lifetime` after now (a negative lifetime: expired that long ago)."""
    now = datetime.now(timezone.utc)
    issued = now + issued_in if issued_in > timedelta(0) else now - timedelta(hours=2)
    end = now + lifetime
    return AssertionSpec(issued=issued, lifetime=end - issued, **changes)
