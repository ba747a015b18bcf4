"""Development certificates for the ATNA secure node (ITI-19) and test SAML issuers (XUA).

Owns a small private PKI for test and demo set-ups, never for production (real deployments get
their certificates from the health network's CA):

- `create_ca(out)`: a self-signed CA (EC P-256, 10 years), `ca-cert.pem` + `ca-key.pem`;
- `create_node(name, ca, out)`: a node certificate signed by the CA with both serverAuth and
  clientAuth extended key usage (one certificate serves TLS and presents itself on outbound
  mutual TLS, ITI TF-2 3.19) and subjectAltNames for the loopback names;
- `create_issuer(name, ca, out)`: an RSA 2048 signing certificate (digitalSignature, no TLS
  usage) for a test SAML assertion issuer (XUA signs RSA-SHA256, PROFILE.md §6);
- `create_crl(ca)` / `revoke(cert_file, ca)`: the CA's certificate revocation list (RFC 5280
  §5, `ca-crl.pem` in the CA folder unless told otherwise), renewed on every call — this
  update now, next update in 7 days, CRL number one up, every earlier revocation kept — and
  with the certificate's serial added by `revoke`. A node checking revocation
  (`tls_crl_file`, xdsno.tls) needs the CRL of every CA it trusts, also one that revoked nothing.

Every file is PEM; private keys are unencrypted and written owner-only (0600).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY_DAYS = 3650
LEAF_VALIDITY_DAYS = 825
CRL_VALIDITY_DAYS = 7
CRL_FILE = "ca-crl.pem"
ORGANIZATION = "xdsno development"
KEY_TYPES = ("ec", "rsa")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class DevCertError(ValueError):
    """A certificate cannot be made: bad name, missing CA files, unreadable key."""


@dataclass(frozen=True)
class CertFiles:
    """Where a certificate and its private key were written."""

    cert: Path
    key: Path


def create_ca(out: Path, *, name: str = "xdsno development CA", key_type: str = "ec") -> CertFiles:
    """A self-signed CA certificate (10 years) able to sign node and issuer certificates."""
    key = _new_key(key_type)
    subject = _name(name)
    now = _now()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=CA_VALIDITY_DAYS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_key_usage(cert_sign=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return _write(out, "ca", builder.sign(key, hashes.SHA256()), key)


def create_node(name: str, ca: Path, out: Path, *, dns: Iterable[str] = ("localhost",),
                ips: Iterable[str] = ("127.0.0.1",), key_type: str = "ec") -> CertFiles:
    """A node certificate (TLS server and client) signed by the CA in folder `ca`."""
    _check_name(name)
    alt_names = [x509.DNSName(host) for host in dns] + [x509.IPAddress(_ip(ip)) for ip in ips]
    if not alt_names:
        raise DevCertError("a node certificate needs at least one --dns or --ip name")
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    extensions = [(x509.SubjectAlternativeName(alt_names), False), (usage, False),
                  (_key_usage(key_agreement=key_type == "ec", key_encipherment=key_type == "rsa"), True)]
    return _issue(name, ca, out, extensions, key_type)


def create_issuer(name: str, ca: Path, out: Path, *, key_type: str = "rsa") -> CertFiles:
    """A signing certificate for a test SAML issuer (XUA): digitalSignature, no TLS usage."""
    _check_name(name)
    return _issue(name, ca, out, [(_key_usage(non_repudiation=True), True)], key_type)


def load_ca(ca: Path) -> tuple[x509.Certificate, object]:
    """The CA certificate and private key written by `create_ca` into folder `ca`."""
    cert_path, key_path = ca / "ca-cert.pem", ca / "ca-key.pem"
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise DevCertError(f"no development CA in {ca}: {exc.filename} is missing "
                           "(make one with `xdsno certs ca --out DIR`)") from None
    except ValueError as exc:
        raise DevCertError(f"CA in {ca} cannot be read: {exc}") from None
    return cert, key


def create_crl(ca: Path, crl_out: Path | None = None, *, revoked: Iterable[int] = (),
               days: int = CRL_VALIDITY_DAYS) -> Path:
    """(Re)write the CA's CRL: the serials revoked so far in `crl_out` plus `revoked`, valid from
    now for `days`, its CRL number one higher than before. Returns the CRL file."""
    ca_cert, ca_key = load_ca(ca)
    crl_out = crl_out or ca / CRL_FILE
    earlier, number = _earlier_revocations(crl_out, ca_cert)
    now = _now()
    entries = dict(earlier)
    for serial in revoked:
        entries.setdefault(serial, now)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=days))
               .add_extension(x509.CRLNumber(number + 1), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    for serial, when in sorted(entries.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    crl_out.parent.mkdir(parents=True, exist_ok=True)
    crl_out.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return crl_out


def revoke(cert_file: Path, ca: Path, crl_out: Path | None = None, *, days: int = CRL_VALIDITY_DAYS) -> Path:
    """Add the certificate in `cert_file` (issued by the CA in folder `ca`) to the CA's CRL."""
    ca_cert, _ = load_ca(ca)
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except FileNotFoundError:
        raise DevCertError(f"no certificate {cert_file}") from None
    except ValueError as exc:
        raise DevCertError(f"certificate {cert_file} cannot be read: {exc}") from None
    if cert.issuer != ca_cert.subject:
        raise DevCertError(f"{cert_file} is issued by {cert.issuer.rfc4514_string()}, "
                           f"not by the CA in {ca} ({ca_cert.subject.rfc4514_string()})")
    return create_crl(ca, crl_out, revoked=[cert.serial_number], days=days)


def _earlier_revocations(crl_file: Path, ca_cert: x509.Certificate) -> tuple[dict[int, dt.datetime], int]:
    """Serials (with their revocation dates) and CRL number of the CA's existing CRL, if any."""
    try:
        crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    except FileNotFoundError:
        return {}, 0
    except ValueError as exc:
        raise DevCertError(f"CRL {crl_file} cannot be read: {exc}") from None
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(ca_cert.public_key()):
        raise DevCertError(f"CRL {crl_file} is not one of the CA {ca_cert.subject.rfc4514_string()}")
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = 0
    return {entry.serial_number: entry.revocation_date_utc for entry in crl}, number


def _issue(name: str, ca: Path, out: Path, extensions: list, key_type: str) -> CertFiles:
    ca_cert, ca_key = load_ca(ca)
    key = _new_key(key_type)
    now = _now()
    builder = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(min(now + dt.timedelta(days=LEAF_VALIDITY_DAYS), ca_cert.not_valid_after_utc))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return _write(out, name, builder.sign(ca_key, hashes.SHA256()), key)


def _new_key(key_type: str):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise DevCertError(f"key type {key_type!r} is not one of {', '.join(KEY_TYPES)}")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, cert_sign: bool = False, key_agreement: bool = False, key_encipherment: bool = False,
               non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=non_repudiation,
                         key_encipherment=key_encipherment, data_encipherment=False,
                         key_agreement=key_agreement, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def _check_name(name: str) -> None:
    # The name becomes a file name and the certificate's CN: no path separators, no spaces.
    if not _NAME.match(name):
        raise DevCertError(f"name {name!r}: use letters, digits, '.', '_' or '-' (at most 63)")


def _ip(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise DevCertError(f"{text!r} is not an IP address") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _write(out: Path, stem: str, cert: x509.Certificate, key) -> CertFiles:
    out.mkdir(parents=True, exist_ok=True)
    files = CertFiles(out / f"{stem}-cert.pem", out / f"{stem}-key.pem")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_pem)
    os.chmod(files.key, 0o600)  # an existing file keeps its old mode through O_CREAT
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
