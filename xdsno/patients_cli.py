"""`xdsno patients add CX... | list`: the registry's known patients, directly on the configured
database (the same table as POST /admin/patients; ITI TF-2 3.42.4.1.3 known patient ids).

    xdsno patients add '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO' [--database-url URL]
    xdsno patients list
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from registry.patients import PatientIdError, add_patients, known_patients, parse_patient_ids
from registry.store import create_schema, open_engine, write_transaction

from .settings import Settings


def add_commands(commands: argparse._SubParsersAction, add_node_options: Callable) -> None:
    patients = commands.add_parser("patients", help="patients known to the registry (add, list)")
    actions = patients.add_subparsers(title="actions")
    patients.set_defaults(config=None, command=lambda _settings, _args: _usage(patients))

    add = actions.add_parser("add", help="record patient ids (CX id^^^&OID&ISO) as known")
    add.add_argument("patient_ids", nargs="+", metavar="CX")
    add_node_options(add)
    add.set_defaults(command=_add)

    listing = actions.add_parser("list", help="print the known patient ids, one per line")
    add_node_options(listing)
    listing.set_defaults(command=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _engine(settings: Settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.effective_database_url, pool_size=1)
    create_schema(engine)
    return engine


def _add(settings: Settings, args: argparse.Namespace) -> int:
    engine = _engine(settings)
    try:
        with write_transaction(engine) as conn:
            added = add_patients(conn, args.patient_ids)
    except PatientIdError as exc:
        for cx, problems in exc.problems.items():
            print(f"xdsno: {cx!r} is not an XDS patient id: {'; '.join(problems)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{len(added)} patient(s) added, {len(parse_patient_ids(args.patient_ids)) - len(added)} already known")
    return 0


def _list(settings: Settings, _args: argparse.Namespace) -> int:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            for patient in known_patients(conn):
                print(patient)
    finally:
        engine.dispose()
    return 0
