"""Certificate revocation lists of the ATNA secure node (ITI TF-2 3.19.6.1: a node refuses a
peer whose certificate is no longer valid; RFC 5280 §5 CRLs, §6.3 their use).

`tls_crl_file` is one PEM file holding the CRLs (`-----BEGIN X509 CRL-----` blocks, any
number) of the CAs in `tls_ca_file`. `load_crls` reads and parses it; `check_coverage` makes
sure every CA of `tls_ca_file` has a CRL there signed by it — OpenSSL's CRL check refuses every
certificate whose issuer has no CRL loaded ("unable to get certificate CRL"), so a CA without
one would lock all its nodes out at the first handshake; it is said at start instead.
`expired` names the CRLs past their nextUpdate (a warning at start: those CAs' certificates
are refused with "CRL has expired" until a fresh CRL is installed).

Errors are SettingsError naming `tls_crl_file`. How the CRLs enter the TLS contexts is xdsno.tls.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from cryptography import x509

from .settings import SettingsError

SETTING = "tls_crl_file"
_CRL_BLOCK = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


def load_crls(path: str) -> list[x509.CertificateRevocationList]:
    """Every CRL of the PEM file at `path`; a missing file, none in it or one unreadable is an error."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{SETTING}: {path} does not exist") from None
    except OSError as exc:
        raise SettingsError(f"{SETTING}: cannot read {path}: {exc}") from None
    blocks = _CRL_BLOCK.findall(data)
    if not blocks:
        raise SettingsError(f"{SETTING}: {path} holds no PEM CRL (-----BEGIN X509 CRL-----)")
    crls = []
    for number, block in enumerate(blocks, 1):
        try:
            crls.append(x509.load_pem_x509_crl(block))
        except ValueError as exc:
            raise SettingsError(f"{SETTING}: CRL number {number} in {path} cannot be read: {exc}") from None
    return crls


def check_coverage(crl_file: str, ca_file: str) -> list[x509.CertificateRevocationList]:
    """The CRLs of `crl_file`, after checking each CA of `ca_file` has one signed by it."""
    crls = load_crls(crl_file)
    try:
        cas = x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
    except (OSError, ValueError):
        return crls  # the CA file's own problem is reported when it is loaded (tls_ca_file)
    missing = [ca.subject.rfc4514_string() for ca in cas if not any(_issued_by(crl, ca) for crl in crls)]
    if missing:
        raise SettingsError(f"{SETTING}: {crl_file} has no CRL of {'; '.join(missing)} (a CA in {ca_file}); "
                            "with revocation checked, every trusted CA needs its CRL, else all its "
                            "certificates are refused")
    return crls


def expired(crls: list[x509.CertificateRevocationList], now: datetime) -> list[str]:
    """'issuer (next update T)' of each CRL whose nextUpdate has passed at `now`."""
    return [f"{crl.issuer.rfc4514_string()} (next update {crl.next_update_utc:%Y-%m-%dT%H:%M:%SZ})"
            for crl in crls if crl.next_update_utc is not None and crl.next_update_utc <= now]


def _issued_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    if crl.issuer != ca.subject:
        return False
    try:
        return crl.is_signature_valid(ca.public_key())
    except (TypeError, ValueError):
        return False
