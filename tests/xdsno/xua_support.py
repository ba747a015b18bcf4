"""XUA assertions of the tests (IHE ITI-40), made by the development issuer xdsno.xua.issuer.

What is test-specific lives here: a test CA issues the certificate of the trusted issuer
("HelseID test"); an attacker has a key and a self-signed certificate of the same subject;
`AssertionSpec` defaults to a HelseID-like physician's assertion at a fixed NOW with the
Norwegian attributes (`default_attributes`); `sign` signs with the test issuer's key;
`config` trusts the test issuers; `fresh_spec` is a spec at the real current time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from xdsno.xua import XuaConfig
from xdsno.xua import issuer as dev_issuer
from xdsno.xua import names as n

ISSUER = "https://helseid-sts.test.nhn.no"
OTHER_ISSUER = "https://helsenorge.test.no/saml"
AUDIENCE = n.HELSEID_AUDIENCE
NOW = datetime(2025, 3, 4, 10, 0, 0, tzinfo=timezone.utc)
EXC_C14N = dev_issuer.EXC_C14N
XS = dev_issuer.XS
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
HOME = "urn:oid:2.16.578.1.12.4.1.7.1.999"
ACP_EXPLICIT = n.ACP_PREFIX + "5"

security_header = dev_issuer.security_header


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
class AssertionSpec(dev_issuer.AssertionSpec):
    """A HelseID-like assertion at the fixed NOW; each test changes one thing."""

    issuer: str = ISSUER
    attributes: dict[str, list] = field(default_factory=lambda: default_attributes())
    issued: datetime = NOW - timedelta(minutes=1)
    name_id: str | None = "Kari Nordmann"


def default_attributes() -> dict[str, list]:
    """Current name → values; a tuple value is a CE (code, codeSystem, displayName)."""
    return dev_issuer.personnel_attributes(
        user_name="Kari Nordmann", hpr_number="565505933", role="LE",
        organization_id="983658725", organization_name="Helse Vest RHF",
        point_of_care_id="974557746", point_of_care_name="Haukeland universitetssjukehus",
        facility_id="4208723", facility_name="Medisinsk avdeling",
        purpose_of_use="TREAT", patient=PATIENT, home_community_id=HOME, acp=ACP_EXPLICIT)


def build_assertion(spec: AssertionSpec | None = None) -> etree._Element:
    return dev_issuer.build_assertion(spec or AssertionSpec())


def sign(assertion: etree._Element, keys: KeyPair | None = None, *, c14n: str = EXC_C14N,
         signature_algorithm: str = "rsa-sha256") -> etree._Element:
    """Signed by the trusted test issuer's key (or `keys`), as xdsno.xua.issuer signs."""
    keys = keys or issuer_keys()
    return dev_issuer.sign(assertion, keys.key_pem, keys.cert, c14n=c14n, signature_algorithm=signature_algorithm)


def signed_assertion(spec: AssertionSpec | None = None, keys: KeyPair | None = None) -> etree._Element:
    return sign(build_assertion(spec), keys)


def fresh_spec(*, issued_in: timedelta = timedelta(0), lifetime: timedelta = timedelta(hours=1),
               **changes) -> AssertionSpec:
    """A spec at the real current time (for the running server): issued now + `issued_in`,
    valid until `lifetime` after now (a negative lifetime: expired that long ago)."""
    now = datetime.now(timezone.utc)
    issued = now + issued_in if issued_in > timedelta(0) else now - timedelta(hours=2)
    end = now + lifetime
    return AssertionSpec(issued=issued, lifetime=end - issued, **changes)
