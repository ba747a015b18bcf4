"""The `xdsno` console command: serve the actors, show the effective settings, print the version.

Every `serve` option is also a setting (TOML file and XDSNO_* environment), DESIGN.md §7.
Further command groups live in their own modules listed in COMMAND_MODULES; each has
`add_commands(subparsers, add_node_options)` registering subcommands whose handler is
`handler(settings, args) -> exit code`.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import Sequence

from . import __version__
from .settings import ACTORS, PROFILES, TLS_CLIENT_AUTH, Settings, SettingsError, load_settings

#: modules adding subcommands (xdsno.<name>.add_commands)
COMMAND_MODULES: tuple[str, ...] = ("patients_cli", "validate_cli", "codes_cli", "documents_cli", "certs_cli",
                                     "audit_cli", "blocks_cli", "xua_cli", "admin_cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config, overrides=_overrides(args))
    except SettingsError as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 2
    return args.command(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xdsno", description="IHE XDS.b registry, repository and XCA gateway")
    parser.add_argument("--version", action="version", version=f"xdsno {__version__}")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="serve the enabled actors on one port")
    add_node_options(serve)
    serve.set_defaults(command=_serve)

    show = commands.add_parser("settings", help="print the effective settings (secrets masked) as JSON")
    add_node_options(show)
    show.set_defaults(command=_show_settings)

    for name in COMMAND_MODULES:
        importlib.import_module(f"xdsno.{name}").add_commands(commands, add_node_options)
    return parser


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """The options every command shares: where the settings come from and the node's identity."""
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (also XDSNO_CONFIG)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--data-dir", help="folder of the SQLite database and the local blob store")
    parser.add_argument("--workers", type=int, help="processes; more than 1 serves with gunicorn")
    parser.add_argument("--profile", choices=PROFILES, help="metadata rule set (default norway)")
    parser.add_argument("--patient-domain", action="append", dest="patient_domains", metavar="OID",
                        help="accepted patient assigning authority (repeatable)")
    parser.add_argument("--home-community-id", help="this community, urn:oid:OID")
    parser.add_argument("--repository-unique-id", help="this repository's uniqueId (OID)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite in the data folder)")
    parser.add_argument("--actor", action="append", dest="actors", choices=ACTORS,
                        help="actor to enable (repeatable; default all)")
    parser.add_argument("--tls-cert", dest="tls_cert_file", metavar="PEM",
                        help="serve HTTPS with this certificate (ATNA secure node, ITI-19)")
    parser.add_argument("--tls-key", dest="tls_key_file", metavar="PEM", help="private key of --tls-cert")
    parser.add_argument("--tls-ca", dest="tls_ca_file", metavar="PEM",
                        help="CAs trusted for client certificates and outbound https")
    parser.add_argument("--tls-client-auth", choices=TLS_CLIENT_AUTH,
                        help="client certificates: none, optional, required (default required)")


def _overrides(args: argparse.Namespace) -> dict:
    names = ("host", "port", "data_dir", "workers", "profile", "patient_domains", "home_community_id",
             "repository_unique_id", "database_url", "actors", "tls_cert_file", "tls_key_file", "tls_ca_file",
             "tls_client_auth")
    values = {name: getattr(args, name, None) for name in names}
    for name in ("patient_domains", "actors"):
        if values[name]:
            values[name] = tuple(values[name])
    return values


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    from .server import serve

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        serve(settings)
    except SettingsError as exc:  # found while building the node, e.g. a TLS file that cannot be loaded
        print(f"xdsno: {exc}", file=sys.stderr)
        return 2
    return 0


def _show_settings(settings: Settings, _args: argparse.Namespace) -> int:
    print(json.dumps(settings.redacted(), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
