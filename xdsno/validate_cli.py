"""`xdsno validate FILE`: judge a SubmitObjectsRequest / ProvideAndRegisterDocumentSetRequest
(bare, in a SOAP envelope, or a whole MTOM capture) against a metadata profile, store nothing.

Prints every issue (severity, code, location, codeContext), or `--json` the document
`POST /validate` answers. Exit status: 0 no errors (warnings allowed), 1 errors or an unreadable
message, 2 the file cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .profiles_setup import profile_and_extras
from .settings import Settings, SettingsError
from .validation import TRANSACTIONS, MessageError, ValidationResult, issue_json, validate_message


def add_commands(commands, add_node_options) -> None:
    validate = commands.add_parser("validate", help="check a submission against a metadata profile (stores nothing)")
    validate.add_argument("file", metavar="FILE", help="the message: bare body, SOAP envelope or MTOM capture")
    validate.add_argument("--transaction", choices=TRANSACTIONS,
                          help="judge as this transaction (default: from the body)")
    validate.add_argument("--content-type", help="the message's Content-Type when FILE has no MIME headers")
    validate.add_argument("--lenient", action="store_true",
                          help="profile-only violations are warnings (settings: strict = false)")
    validate.add_argument("--json", action="store_true", help="print the JSON POST /validate answers")
    add_node_options(validate)  # --profile ihe|norway, --config, ...
    validate.set_defaults(command=run_validate)


def run_validate(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"xdsno validate: {exc}", file=sys.stderr)
        return 2
    try:
        profile, extras = profile_and_extras(settings)
    except SettingsError as exc:
        print(f"xdsno validate: {exc}", file=sys.stderr)
        return 2
    strict = settings.strict and not args.lenient
    try:
        result = validate_message(data, args.content_type, profile, transaction=args.transaction, strict=strict,
                                  patient_domains=settings.patient_domains, extras=extras,
                                  max_xml_bytes=settings.max_xml_bytes)
    except MessageError as exc:
        print(f"xdsno validate: {args.file}: {exc}", file=sys.stderr)
        return 1
    print(_as_json(result, profile.name) if args.json else _as_text(result, profile.name, args.file))
    return 0 if result.valid else 1


def _as_text(result: ValidationResult, profile_name: str, file_name: str) -> str:
    lines = [f"{_word(issue)}: {issue.code.value} [{issue.location or '-'}] {issue.context}"
             for issue in result.issues]
    errors = sum(1 for issue in result.issues if issue.is_error)
    warnings = len(result.issues) - errors
    verdict = "valid" if result.valid else "INVALID"
    lines.append(f"{file_name}: {verdict} under profile {profile_name} as {result.transaction.value} "
                 f"({errors} error(s), {warnings} warning(s))")
    return "\n".join(lines)


def _word(issue) -> str:
    return "error" if issue.is_error else "warning"


def _as_json(result: ValidationResult, profile_name: str) -> str:
    return json.dumps({"valid": result.valid, "profile": profile_name, "transaction": result.transaction.value,
                       "issues": [issue_json(issue) for issue in result.issues]}, indent=2, ensure_ascii=False)

