"""`POST /validate`: the validation service over HTTP (xdsno.validation), storing nothing.

Body: the message as a client would send it, with its Content-Type (`application/soap+xml`,
`multipart/related; type="application/xop+xml"; ...`, or any XML type for a bare body; none:
detected). Query (all optional): `profile=ihe|norway` (default the node's), `transaction=ITI-41|ITI-42`
(default from the body), `lenient=1|0` (default the node's `strict` setting).

Answers 200 `{"valid": bool, "profile", "transaction", "issues": [{"code", "severity", "location",
"context"}]}`; 400 `{"valid": false, "error": ...}` for a message that cannot be read or a bad
query; 413 above `max_xml_bytes`; 405 for other methods.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from profiles.catalog import PROFILE_NAMES
from soap.message import BoundedReader, read_limited
from soap.xml import XmlRejected

from .profiles_setup import profile_and_extras
from .settings import Settings
from .validation import MessageError, issue_json, validate_message

VALIDATE_PATH = "/validate"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class BadRequest(ValueError):
    """A query parameter the service cannot use."""


class ValidateApp:
    """The WSGI application mounted at /validate."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._extras = profile_and_extras(settings)[1]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 Method Not Allowed", {"error": "POST the message to validate"},
                           [("Allow", "POST")])
        try:
            document = self._validate(environ)
        except XmlRejected as exc:
            return _answer(start_response, "413 Content Too Large", {"valid": False, "error": str(exc)})
        except (BadRequest, MessageError) as exc:
            return _answer(start_response, "400 Bad Request", {"valid": False, "error": str(exc)})
        return _answer(start_response, "200 OK", document)

    def _validate(self, environ: dict[str, Any]) -> dict[str, Any]:
        query = {name: values[-1] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        profile_name = query.get("profile") or self._settings.profile
        if profile_name not in PROFILE_NAMES:
            raise BadRequest(f"profile {profile_name!r}: use {' or '.join(PROFILE_NAMES)}")
        profile, _ = profile_and_extras(self._settings, profile_name)
        length = _content_length(environ)
        stream = environ["wsgi.input"] if length is None else BoundedReader(environ["wsgi.input"], length)
        body = read_limited(stream, self._settings.max_xml_bytes, length)
        result = validate_message(body, environ.get("CONTENT_TYPE"), profile,
                                  transaction=query.get("transaction") or None, strict=self._strict(query),
                                  patient_domains=self._settings.patient_domains, extras=self._extras,
                                  max_xml_bytes=self._settings.max_xml_bytes)
        return {"valid": result.valid, "profile": profile.name, "transaction": result.transaction.value,
                "issues": [issue_json(issue) for issue in result.issues]}

    def _strict(self, query: dict[str, str]) -> bool:
        lenient = query.get("lenient", "").strip().lower()
        if lenient in _TRUE:
            return False
        if lenient in _FALSE:
            return True
        if lenient:
            raise BadRequest(f"lenient {lenient!r}: use 1 or 0")
        return self._settings.strict


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _answer(start_response: Callable, status: str, document: dict[str, Any],
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Length", str(len(body))), *(headers or [])])
    return [body]
