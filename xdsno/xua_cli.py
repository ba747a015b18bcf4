"""`xdsno xua assertion`: a signed XUA identity assertion (IHE ITI-40) from the development
issuer (xdsno.xua.issuer), for test set-ups and demos — real ones come from HelseID/Helsenorge.

    xdsno certs issuer test-idp --ca tls/ca --out tls
    xdsno xua assertion --key tls/test-idp-key.pem --cert tls/test-idp-cert.pem \\
        --user-name "Kari Lege" --hpr-number 9100101 --organization-id 999999905 \\
        --organization-name "Syntetisk sykehus Nord HF" --patient "CX" --out kari.xml
    xdsno publish FILE --patient CX --assertion kari.xml     # sent in wsse:Security

The issuer name defaults to the certificate's common name; a node trusts it with
`xua_issuer_certs = ["test-idp=tls/test-idp-cert.pem"]`. Writes the assertion XML to stdout or
`--out`. Exit status 0 written, 1 the key or certificate cannot be used, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from .settings import Settings
from .xua import issuer as dev_issuer
from .xua import names as n
from .xua.config import load_certificates


def add_commands(commands: argparse._SubParsersAction, _add_node_options: Callable) -> None:
    xua = commands.add_parser("xua", help="XUA (ITI-40): development identity assertions")
    xua.set_defaults(config=None, command=lambda _settings, _args: _usage(xua))
    actions = xua.add_subparsers(title="actions")
    assertion = actions.add_parser("assertion", help="sign a health professional's SAML assertion (tests, demos)")
    _signing_options(assertion)
    _subject_options(assertion)
    assertion.add_argument("--out", type=Path, help="file to write the assertion to (default: stdout)")
    assertion.set_defaults(command=_assertion)


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", type=Path, required=True, help="the issuer's RSA private key (NAME-key.pem "
                        "of `xdsno certs issuer`)")
    parser.add_argument("--cert", type=Path, required=True, help="the issuer's certificate (NAME-cert.pem)")
    parser.add_argument("--issuer", help="saml:Issuer (default: the certificate's common name)")
    parser.add_argument("--audience", action="append", metavar="URI",
                        help=f"audience (repeatable; default {n.HELSEID_AUDIENCE})")
    parser.add_argument("--lifetime", type=_minutes, default=60, metavar="MINUTES",
                        help="validity from now (default 60)")


def _subject_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-name", required=True, help="the user's name (subject-id and NameID)")
    parser.add_argument("--hpr-number", help="HPR number (npi)")
    parser.add_argument("--role", default="LE", help="role code, Volven 9060 (default LE, lege)")
    parser.add_argument("--organization-id", metavar="ORGNR", help="legal entity's organisation number")
    parser.add_argument("--organization-name", help="legal entity's name")
    parser.add_argument("--purpose", default="TREAT", help="purpose of use: TREAT (default), ETREAT, COC, BTG")
    parser.add_argument("--patient", metavar="CX", help="the patient (resource-id), e.g. "
                        "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO")
    parser.add_argument("--home-community-id", metavar="URN", help="the user's home community, urn:oid:OID")
    parser.add_argument("--acp", metavar="N|URI", help="access consent policy: 0-8 "
                        f"({n.ACP_PREFIX}N) or a URI")


def _minutes(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of minutes")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _assertion(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        key_pem = args.key.read_bytes()
        certificate = load_certificates(args.cert)[0]
        signed = dev_issuer.sign(dev_issuer.build_assertion(spec_of(args, certificate)), key_pem, certificate)
    except (OSError, ValueError) as exc:
        print(f"xdsno xua assertion: {exc}", file=sys.stderr)
        return 1
    xml = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    if args.out:
        args.out.write_bytes(xml)
    else:
        sys.stdout.buffer.write(xml + b"\n")
        sys.stdout.flush()
    return 0


def spec_of(args: argparse.Namespace, certificate: x509.Certificate) -> dev_issuer.AssertionSpec:
    """The AssertionSpec the options describe, issued now."""
    attributes = dev_issuer.personnel_attributes(
        user_name=args.user_name, hpr_number=args.hpr_number, role=args.role or None,
        organization_id=args.organization_id, organization_name=args.organization_name,
        purpose_of_use=args.purpose or None, patient=args.patient, home_community_id=args.home_community_id,
        acp=args.acp)
    return dev_issuer.AssertionSpec(issuer=args.issuer or common_name(certificate), attributes=attributes,
                                    lifetime=timedelta(minutes=args.lifetime), name_id=args.user_name,
                                    audiences=tuple(args.audience or (n.HELSEID_AUDIENCE,)))


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise ValueError("the certificate has no common name; name the issuer with --issuer")
    return str(names[0].value)
