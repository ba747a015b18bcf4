"""`xdsno certs ca | node | issuer | crl | revoke`: development certificates for the ATNA secure
node (ITI-19), their revocation list, and test SAML issuers (XUA); the logic is xdsno.devcerts.

    xdsno certs ca --out tls/ca                                   # ca-cert.pem, ca-key.pem
    xdsno certs node registry --ca tls/ca --out tls [--dns localhost --ip 127.0.0.1]
    xdsno certs issuer test-idp --ca tls/ca --out tls              # RSA signing certificate
    xdsno certs crl --ca tls/ca                                   # tls/ca/ca-crl.pem, renewed (7 days)
    xdsno certs revoke registry --ca tls/ca [--certs tls]          # tls/registry-cert.pem into the CRL

For tests and demos only: production nodes get their certificates from the health network's CA.
Exit status 0 when the files were written, 1 when they could not be, 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, TypeVar

from . import devcerts
from .settings import Settings

T = TypeVar("T")


def add_commands(commands: argparse._SubParsersAction, _add_node_options: Callable) -> None:
    certs = commands.add_parser("certs", help="development CA, node (TLS) and SAML issuer certificates")
    certs.set_defaults(config=None, command=lambda _settings, _args: _usage(certs))
    actions = certs.add_subparsers(title="actions")

    ca = actions.add_parser("ca", help="create a development CA (10 years)")
    ca.add_argument("--out", type=Path, required=True, help="folder for ca-cert.pem and ca-key.pem")
    ca.add_argument("--name", default="xdsno development CA", help="the CA's common name")
    ca.add_argument("--key-type", choices=devcerts.KEY_TYPES, default="ec", help="EC P-256 (default) or RSA 2048")
    ca.add_argument("--force", action="store_true", help="replace an existing CA (its certificates stop working)")
    ca.set_defaults(command=_ca)

    node = actions.add_parser("node", help="a node certificate for TLS server and client (mutual TLS)")
    _leaf_arguments(node, "ec")
    node.add_argument("--dns", action="append", metavar="NAME", help="DNS subjectAltName (repeatable; "
                      "default localhost and 127.0.0.1 when neither --dns nor --ip is given)")
    node.add_argument("--ip", action="append", metavar="ADDRESS", help="IP subjectAltName (repeatable)")
    node.set_defaults(command=_node)

    issuer = actions.add_parser("issuer", help="a signing certificate for a test SAML assertion issuer (XUA)")
    _leaf_arguments(issuer, "rsa")
    issuer.set_defaults(command=_issuer)

    crl = actions.add_parser("crl", help="write or renew the CA's revocation list (tls_crl_file)")
    _crl_arguments(crl)
    crl.set_defaults(command=_crl)

    revoke = actions.add_parser("revoke", help="add a certificate of the CA to its revocation list")
    revoke.add_argument("name", help="the certificate NAME-cert.pem in --certs, or the path of a PEM certificate")
    revoke.add_argument("--certs", type=Path, help="folder of NAME-cert.pem (default: the CA folder's parent)")
    _crl_arguments(revoke)
    revoke.set_defaults(command=_revoke)


def _crl_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", type=Path, required=True, help="folder of the CA made by `xdsno certs ca`")
    parser.add_argument("--crl", type=Path, help=f"the CRL file (default: {devcerts.CRL_FILE} in the CA folder)")
    parser.add_argument("--days", type=int, default=devcerts.CRL_VALIDITY_DAYS,
                        help=f"days until the CRL's next update (default {devcerts.CRL_VALIDITY_DAYS})")


def _leaf_arguments(parser: argparse.ArgumentParser, key_type: str) -> None:
    parser.add_argument("name", help="common name, also the file names NAME-cert.pem and NAME-key.pem")
    parser.add_argument("--ca", type=Path, required=True, help="folder of the CA made by `xdsno certs ca`")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the certificate and key to")
    parser.add_argument("--key-type", choices=devcerts.KEY_TYPES, default=key_type,
                        help=f"key algorithm (default {key_type})")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _ca(_settings: Settings, args: argparse.Namespace) -> int:
    if (args.out / "ca-key.pem").exists() and not args.force:
        print(f"xdsno: {args.out} already holds a CA; --force replaces it", file=sys.stderr)
        return 1
    return _made(lambda: devcerts.create_ca(args.out, name=args.name, key_type=args.key_type))


def _node(_settings: Settings, args: argparse.Namespace) -> int:
    dns, ips = args.dns or [], args.ip or []
    if not dns and not ips:
        dns, ips = ["localhost"], ["127.0.0.1"]
    code = _made(lambda: devcerts.create_node(args.name, args.ca, args.out, dns=dns, ips=ips,
                                              key_type=args.key_type))
    if code == 0:
        stem = args.out / args.name
        print(f"settings: tls_cert_file = \"{stem}-cert.pem\"  tls_key_file = \"{stem}-key.pem\"  "
              f"tls_ca_file = \"{args.ca / 'ca-cert.pem'}\"")
    return code


def _issuer(_settings: Settings, args: argparse.Namespace) -> int:
    return _made(lambda: devcerts.create_issuer(args.name, args.ca, args.out, key_type=args.key_type))


def _crl(_settings: Settings, args: argparse.Namespace) -> int:
    return _crl_written(lambda: devcerts.create_crl(args.ca, args.crl, days=args.days), args.days)


def _revoke(_settings: Settings, args: argparse.Namespace) -> int:
    named = Path(args.name)
    cert = named if named.suffix == ".pem" and named.is_file() else \
        (args.certs or args.ca.resolve().parent) / f"{args.name}-cert.pem"
    return _crl_written(lambda: devcerts.revoke(cert, args.ca, args.crl, days=args.days), args.days)


def _crl_written(write: Callable[[], Path], days: int) -> int:
    if days < 1:
        print("xdsno: --days must be at least 1", file=sys.stderr)
        return 2
    return _written(write, lambda crl: [f"revocation list {crl} (next update in {days} days)",
                                        f"settings: tls_crl_file = \"{crl}\""])


def _made(make: Callable[[], devcerts.CertFiles]) -> int:
    return _written(make, lambda files: [f"certificate {files.cert}", f"private key {files.key}"])


def _written(make: Callable[[], T], report: Callable[[T], list[str]]) -> int:
    """Run `make`; print what `report` says of its result (exit 0), or why it failed (exit 1)."""
    try:
        made = make()
    except (devcerts.DevCertError, OSError) as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 1
    for line in report(made):
        print(line)
    return 0
