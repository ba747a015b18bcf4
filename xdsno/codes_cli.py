"""`xdsno codes`: the Norwegian code lists a node judges metadata by (PROFILE.md §4: "a deployment
loads the official export, so code lists are data files with a loader").

- `xdsno codes import FILE [--list 9602] ...` reads a Helsedirektoratet/FinnKode export (JSON,
  FHIR CodeSystem or delimited text; profiles.norway.finnkode) and writes it as
  `<code_sets_dir>/<list>.json`, replacing the bundled list of that id; a running server reads
  the folder at start, so restart it afterwards.
- `xdsno codes list` prints the lists in force: bundled ones and the folder's.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from profiles.norway.codesets import CodeSetError, load_code_sets, write_code_set
from profiles.norway.finnkode import import_finnkode

from .settings import Settings


def add_commands(commands, add_node_options) -> None:
    codes = commands.add_parser("codes", help="Norwegian code lists: import an official export, list those in force")
    actions = codes.add_subparsers(title="actions", dest="action", required=True)

    imported = actions.add_parser("import", help="import a FinnKode/Volven export into the code-set folder")
    imported.add_argument("file", metavar="FILE", help="FinnKode JSON, FHIR CodeSystem JSON or CSV/TSV export")
    imported.add_argument("--list", dest="list_id", help="list id, e.g. 9602 (default: from the file)")
    imported.add_argument("--oid", help="codingScheme OID (default: 2.16.578.1.12.4.1.1.<list>)")
    imported.add_argument("--name", help="list name (default: from the file)")
    imported.add_argument("--include-inactive", action="store_true", help="keep codes marked inactive")
    imported.add_argument("--partial", action="store_true", help="the file is not the whole official list")
    add_node_options(imported)
    imported.set_defaults(command=run_import)

    listed = actions.add_parser("list", help="print the code lists in force")
    add_node_options(listed)
    listed.set_defaults(command=run_list)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    folder = settings.effective_code_sets_dir
    try:
        code_set = import_finnkode(Path(args.file), list_id=args.list_id, oid=args.oid, name=args.name,
                                   include_inactive=args.include_inactive, complete=not args.partial)
        target = write_code_set(code_set, folder)
        load_code_sets(folder)  # the folder as a whole must still load
    except (OSError, CodeSetError) as exc:
        print(f"xdsno codes import: {exc}", file=sys.stderr)
        return 1
    state = "complete" if code_set.complete else "partial"
    print(f"{target}: list {code_set.list_id} ({code_set.oid}), {len(code_set)} codes, {state}; "
          "restart the server to judge metadata by it")
    return 0


def run_list(settings: Settings, _args: argparse.Namespace) -> int:
    folder = settings.effective_code_sets_dir
    try:
        code_sets = load_code_sets(folder if folder.is_dir() else None)
    except CodeSetError as exc:
        print(f"xdsno codes list: {exc}", file=sys.stderr)
        return 1
    print(f"code-set folder: {folder}{'' if folder.is_dir() else ' (absent: bundled lists only)'}")
    for code_set in code_sets:
        state = "complete" if code_set.complete else "partial"
        print(f"{code_set.list_id:<20} {code_set.oid:<28} {len(code_set):>6} codes  {state:<8}  "
              f"retrieved {code_set.retrieved}  {code_set.name}")
    return 0
