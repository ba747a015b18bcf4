"""Replay the converted NIST XDS Toolkit test plans against an xdsno node and report
pass / fail / not-served per test and step.

    python scripts/conformance/nist.py --shared ../shared --base-url http://127.0.0.1:8080
    python scripts/conformance/nist.py --serve [--group reg --group rep] [--test 12346] \
        [--json report.json] [--write-expected] [--strict]

With --serve it starts its own `xdsno serve --profile ihe` on a fresh temporary data folder
(patient domain, home community id and repository uniqueId of the harness) and stops it
afterwards. Preload tests always run first. Exit status is 0 unless --strict and a test fails.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402

from scripts.conformance.identities import Identity  # noqa: E402
from scripts.conformance.results import (  # noqa: E402
    FAIL, NOT_SERVED, format_failures, format_table, write_expected,
)
from scripts.conformance.runner import Harness  # noqa: E402
from scripts.conformance.serving import serve_arguments  # noqa: E402

EXPECTED_FILE = REPO_ROOT / "tests" / "conformance" / "nist_expected.json"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    nist_dir = Path(args.shared) / "conformance" / "nist"
    if not (nist_dir / "index.json").exists():
        print(f"nist: no test plans at {nist_dir}", file=sys.stderr)
        return 2
    identity = Identity()
    if args.patient_domain:
        identity = replace(identity, patient_root=args.patient_domain)
    if args.home_community_id:
        identity = replace(identity, home_community_id=args.home_community_id)
    if args.repository_unique_id:
        identity = replace(identity, repository_unique_id=args.repository_unique_id)
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if args.serve:
            base_url = stack.enter_context(_own_server(identity, args))
        with Harness(nist_dir, base_url, identity=identity, timeout=args.timeout,
                     home_community_from_health=not (args.serve or args.home_community_id),
                     progress=None if args.quiet else _print_progress,
                     dump_dir=Path(args.dump) if args.dump else None,
                     feed_patients=args.feed_patients) as harness:
            try:
                harness.read_health()
            except httpx.HTTPError as exc:
                print(f"nist: cannot read {base_url}/health: {exc}", file=sys.stderr)
                return 2
            try:
                plans = harness.select(args.group or (), args.test or (), preload=not args.no_preload)
            except ValueError as exc:
                print(f"nist: {exc}", file=sys.stderr)
                return 2
            report = harness.run(plans)
            for problem in harness.feed_errors:
                print(f"nist: feeding patient {problem}", file=sys.stderr)
    print()
    print(format_table(report.results))
    failures = format_failures(report.results)
    if failures and not args.quiet:
        print("\nfailing tests:\n" + failures)
    if args.json:
        report.write_json(Path(args.json))
    if args.write_expected is not None:
        path = Path(args.write_expected) if args.write_expected else EXPECTED_FILE
        listed = write_expected(path, report.results, [r.test for r in report.results])
        print(f"\n{path}: {len(listed)} tests expected to pass")
    if args.strict and any(r.status == FAIL for r in report.results):
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"),
                        help="the shared data folder holding conformance/nist (default ../shared)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--base-url", default="http://127.0.0.1:8080", help="node under test")
    target.add_argument("--serve", action="store_true", help="start (and stop) an own `xdsno serve --profile ihe`")
    parser.add_argument("--database-url", help="with --serve: the node's database (default SQLite in a temp folder)")
    parser.add_argument("--keep-data", action="store_true", help="with --serve: keep the temporary data folder and log")
    parser.add_argument("--group", action="append", help="run only tests of this group (repeatable)")
    parser.add_argument("--test", action="append", help="run only this test id (repeatable)")
    parser.add_argument("--no-preload", action="store_true", help="do not run the preload tests first")
    parser.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    parser.add_argument("--write-expected", nargs="?", const="", metavar="FILE",
                        help=f"record the passing tests (default {EXPECTED_FILE.relative_to(REPO_ROOT)})")
    parser.add_argument("--dump", metavar="DIR", help="write every request and reply body under DIR/<test>/")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a test fails")
    parser.add_argument("--quiet", action="store_true", help="only the table")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--feed-patients", action="store_true",
                        help="POST every test patient to /admin/patients first (nodes with known_patients_only; "
                             "with --serve the node is started that way)")
    parser.add_argument("--patient-domain", help="assigning authority OID of the test patients")
    parser.add_argument("--home-community-id", help="the node's home community id (default: from /health)")
    parser.add_argument("--repository-unique-id", help="the node's repository uniqueId")
    return parser


@contextlib.contextmanager
def _own_server(identity: Identity, args: argparse.Namespace):
    from tests.server import running_server

    folder = Path(tempfile.mkdtemp(prefix="xdsno-nist-"))
    try:
        env = {"XDSNO_KNOWN_PATIENTS_ONLY": "true"} if args.feed_patients else None
        with running_server(folder / "data", *serve_arguments(identity, args.database_url), env=env) as server:
            print(f"serving {server.base_url} (data in {folder})")
            yield server.base_url
    finally:
        if args.keep_data:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _print_progress(result) -> None:
    counts = {}
    for step in result.steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    marker = {FAIL: "FAIL", NOT_SERVED: "n/s "}.get(result.status, "ok  ")
    print(f"{marker} {result.test:<26} {'/'.join(result.groups):<8} {detail}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
