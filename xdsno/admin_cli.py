"""`xdsno admin token [--label TEXT] [--tokens-file FILE]`: a new bearer token for the node's
administrative endpoints (xdsno.admin_auth).

The token is random (256 bits) and printed once on stdout; only its SHA-256 and the label are
appended to `admin_tokens_file` (or `--tokens-file`), which is created readable by its owner
only. A running node reads the file again when it changes. Send the token as

    curl -H "Authorization: Bearer $TOKEN" https://node:8443/admin/audit?patient=CX

and revoke it by deleting its line from the file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Callable

from .admin_tokens import TokenFileError, add_token
from .settings import Settings


def add_commands(commands: argparse._SubParsersAction, add_node_options: Callable) -> None:
    admin = commands.add_parser("admin", help="access to the node's /admin endpoints (token)")
    actions = admin.add_subparsers(title="actions")
    admin.set_defaults(config=None, command=lambda _settings, _args: _usage(admin))

    token = actions.add_parser("token", help="make a new admin bearer token; print it once, store its hash")
    token.add_argument("--label", default="", help="whose token it is (shown in the audit records of its calls)")
    token.add_argument("--tokens-file", metavar="FILE", help="the tokens file (default: admin_tokens_file)")
    add_node_options(token)
    token.set_defaults(command=_token)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _token(settings: Settings, args: argparse.Namespace) -> int:
    path = args.tokens_file or settings.admin_tokens_file
    if not path:
        print("xdsno: set admin_tokens_file (XDSNO_ADMIN_TOKENS_FILE) or give --tokens-file", file=sys.stderr)
        return 2
    label = args.label or f"made {dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
    try:
        token = add_token(Path(path), label)
    except (TokenFileError, OSError) as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 1
    print(token)
    print(f"xdsno: token {label!r} added to {path}; it is shown only this once "
          "(send it as Authorization: Bearer <token>)", file=sys.stderr)
    return 0
