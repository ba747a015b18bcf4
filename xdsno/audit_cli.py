"""`xdsno audit access-log CX | list | status`: the local audit store, directly on the configured
database (the same tables as GET /innsynslogg and GET /admin/audit; xdsno.audit).

    xdsno audit access-log '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO' [--since 2025-03-01] [--json]
    xdsno audit list [--patient CX] [--since T] [--until T] [--transaction ITI-18] [--limit N]
    xdsno audit status      # records stored, undelivered per destination

`access-log` prints the citizen's access log (innsynslogg): time, who (name, role,
organisation, department — never a national id), what was accessed, why.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from .audit.access_log import access_log
from .audit.http import normalize_time
from .audit.setup import audit_store
from .settings import Settings


def add_commands(commands: argparse._SubParsersAction, add_node_options: Callable) -> None:
    audit = commands.add_parser("audit", help="the audit records of this node (access-log, list, status)")
    actions = audit.add_subparsers(title="actions")
    audit.set_defaults(config=None, command=lambda _settings, _args: _usage(audit))

    log = actions.add_parser("access-log", help="a patient's access log (innsynslogg): who saw what, when, why")
    log.add_argument("patient", metavar="CX")
    _add_period(log)
    log.add_argument("--json", action="store_true", help="print the entries as JSON")
    add_node_options(log)
    log.set_defaults(command=_access_log)

    listing = actions.add_parser("list", help="stored audit records as JSON lines")
    listing.add_argument("--patient", metavar="CX")
    listing.add_argument("--transaction", metavar="ITI-18")
    listing.add_argument("--limit", type=int, default=1000)
    _add_period(listing)
    add_node_options(listing)
    listing.set_defaults(command=_list)

    status = actions.add_parser("status", help="records stored and undelivered per destination")
    add_node_options(status)
    status.set_defaults(command=_status)


def _add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="T", help="from this RFC 3339 UTC date or time")
    parser.add_argument("--until", metavar="T", help="before this RFC 3339 UTC date or time")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _period(args: argparse.Namespace) -> tuple[str | None, str | None]:
    return (normalize_time(args.since, "--since") if args.since else None,
            normalize_time(args.until, "--until") if args.until else None)


def _access_log(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since, until = _period(args)
    except ValueError as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 2
    entries = access_log(audit_store(settings), args.patient, since=since, until=until)
    if args.json:
        print(json.dumps({"patient": args.patient, "entries": entries}, indent=2, ensure_ascii=False))
        return 0
    for entry in entries:
        print(_line(entry))
    if not entries:
        print("no accesses recorded", file=sys.stderr)
    return 0


def _line(entry: dict) -> str:
    user = entry["user"]
    who = ", ".join(user[key] for key in ("name", "role", "organization", "point_of_care", "department")
                    if user.get(key))
    what = f"{entry['access']} ({entry['transaction']})"
    documents = ", ".join(entry["documents"]) or "no documents"
    why = entry["purpose"] or "no purpose given"
    flags = f" {entry['outcome'].upper()}" if entry["outcome"] != "success" else ""
    flags += " OVERRIDE" if entry["override"] else ""
    return f"{entry['time']}  {who}  {what}: {documents}  [{why}]{flags}"


def _list(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since, until = _period(args)
    except ValueError as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 2
    kinds = [args.transaction] if args.transaction else None
    for record in audit_store(settings).records(patient=args.patient, since=since, until=until,
                                                transactions=kinds, limit=args.limit):
        print(json.dumps(record.to_dict(), ensure_ascii=False))
    return 0


def _status(settings: Settings, _args: argparse.Namespace) -> int:
    store = audit_store(settings)
    print(json.dumps({"records": store.count(), "undelivered": store.pending()}, indent=2))
    return 0
