"""Administrative HTTP interface of the Document Registry: feeding known patients
(ITI TF-2 3.42.4.1.3 needs patients known to the registry; until the Patient Identity Feed
ITI-8/ITI-104 exists, this and `xdsno patients` are how they become known).

    GET  /admin/patients                         → {"patients": ["CX", ...]}
    POST /admin/patients {"patients": ["CX", ...]} → {"added": [the ones that were new]}

Ids are XDS patient ids (`id^^^&OID&ISO`); a malformed one answers 400 naming every problem
and records nothing. Who may call it is the deployment's to decide: the xdsno node puts its
admin guard in front (admin token, client certificate, else loopback only).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine

from registry.patients import PatientIdError, add_patients, known_patients
from registry.store import write_transaction

MAX_BODY_BYTES = 4 * 1024 * 1024


class PatientsAdminApp:
    """WSGI application for /admin/patients."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return _json(start_response, "404 Not Found", {"error": "no such admin resource"})
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            with self._engine.connect() as conn:
                return _json(start_response, "200 OK", {"patients": known_patients(conn)})
        if method == "POST":
            return self._post(environ, start_response)
        return _json(start_response, "405 Method Not Allowed", {"error": "use GET or POST"},
                     [("Allow", "GET, POST")])

    def _post(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            patients = _read_patients(environ)
        except ValueError as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
        try:
            with write_transaction(self._engine) as conn:
                added = add_patients(conn, patients)
        except PatientIdError as exc:
            return _json(start_response, "400 Bad Request",
                         {"error": "not XDS patient ids (id^^^&OID&ISO)", "problems": exc.problems})
        return _json(start_response, "200 OK", {"added": added})


def _read_patients(environ: dict[str, Any]) -> list[str]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("Content-Length is not a number") from None
    if length <= 0 or length > MAX_BODY_BYTES:
        raise ValueError(f"a JSON body of 1 to {MAX_BODY_BYTES} bytes is required")
    try:
        document = json.loads(environ["wsgi.input"].read(length))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    patients = document.get("patients") if isinstance(document, dict) else None
    if not isinstance(patients, list) or not all(isinstance(p, str) for p in patients):
        raise ValueError('expected {"patients": ["CX", ...]}')
    return patients


def _json(start_response: Callable, status: str, document: dict,
          extra_headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps(document, indent=2).encode() + b"\n"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            *(extra_headers or [])])
    return [body]
