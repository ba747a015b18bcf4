"""`xdsno blocks add | list | remove`: the patients' blocks (sperring, xdsno.policy.blocks)
directly on the configured database — the same table as /admin/blocks.

    xdsno blocks add CX [--document UID | --author-organisation ORGNR]
                        [--hpr HPR | --organisation ORGNR] [--note TEXT]
    xdsno blocks list CX
    xdsno blocks remove ID
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from registry.store import open_engine

from .policy import BlockError, BlockStore, new_block
from .settings import Settings


def add_commands(commands: argparse._SubParsersAction, add_node_options: Callable) -> None:
    blocks = commands.add_parser("blocks", help="patients' blocks of documents or personnel (add, list, remove)")
    actions = blocks.add_subparsers(title="actions")
    blocks.set_defaults(config=None, command=lambda _settings, _args: _usage(blocks))

    add = actions.add_parser("add", help="block documents of a patient (what) for someone (whom)")
    add.add_argument("patient", metavar="CX", help="the patient, id^^^&OID&ISO")
    what = add.add_mutually_exclusive_group()
    what.add_argument("--document", dest="document_unique_id", metavar="UID", help="one document (uniqueId)")
    what.add_argument("--author-organisation", metavar="ORGNR", help="documents authored at this organisation")
    whom = add.add_mutually_exclusive_group()
    whom.add_argument("--hpr", dest="hpr_number", metavar="HPR", help="for this health professional only")
    whom.add_argument("--organisation", metavar="ORGNR", help="for this organisation only")
    add.add_argument("--note", default="", help="why, as the patient said it")
    add_node_options(add)
    add.set_defaults(command=_add)

    listing = actions.add_parser("list", help="print a patient's blocks as JSON lines")
    listing.add_argument("patient", metavar="CX")
    add_node_options(listing)
    listing.set_defaults(command=_list)

    remove = actions.add_parser("remove", help="remove a block by its id")
    remove.add_argument("block_id", type=int, metavar="ID")
    add_node_options(remove)
    remove.set_defaults(command=_remove)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _store(settings: Settings) -> BlockStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return BlockStore(open_engine(settings.effective_database_url, pool_size=1))


def _add(settings: Settings, args: argparse.Namespace) -> int:
    values = {name: getattr(args, name) for name in ("document_unique_id", "author_organisation", "hpr_number",
                                                      "organisation", "note")}
    try:
        block = new_block({"patient": args.patient, **values})
    except BlockError as exc:
        print(f"xdsno: {exc}", file=sys.stderr)
        return 1
    store = _store(settings)
    try:
        print(json.dumps(store.add(block).as_dict(), ensure_ascii=False))
    finally:
        store.engine.dispose()
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    try:
        for block in store.for_patients([args.patient]):
            print(json.dumps(block.as_dict(), ensure_ascii=False))
    finally:
        store.engine.dispose()
    return 0


def _remove(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    try:
        removed = store.remove(args.block_id)
    finally:
        store.engine.dispose()
    if removed is None:
        print(f"xdsno: no block {args.block_id}", file=sys.stderr)
        return 1
    print(json.dumps(removed.as_dict(), ensure_ascii=False))
    return 0
