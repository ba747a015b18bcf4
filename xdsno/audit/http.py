"""HTTP reading of the local audit store (JSON), for administrators and the citizen's access log.

    GET /admin/audit?patient=CX&since=T&until=T&transaction=ITI-18&limit=N
        → {"records": [AuditRecord as JSON, ...], "pending": {destination: undelivered count}}
    GET /innsynslogg?patient=CX&since=T&until=T
        → {"patient": CX, "entries": [access-log entry, ...]}   (xdsno.audit.access_log)

T is an RFC 3339 time or date (UTC, compared as text: `2025-03-01` or `2025-03-01T10:00:00Z`).
Who may read them is decided before these apps run, by the guard the composition root puts
around them (xdsno.admin_auth: admin token, client certificate or loopback; on /innsynslogg
also the citizen's own XUA assertion). Both reads are themselves audited (DICOM 110101 Audit
Log Used) by the audit wrapper around that guard.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from xdsno.jsonhttp import json_response

from .access_log import access_log
from .store import AuditStore

ADMIN_AUDIT_PATH = "/admin/audit"
ACCESS_LOG_PATH = "/innsynslogg"
MAX_LIMIT = 10000
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z?)?$")


class _ReadApp:
    def __init__(self, store: AuditStore):
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return json_response(start_response, "404 Not Found", {"error": "no such resource"})
        if environ.get("REQUEST_METHOD") != "GET":
            return json_response(start_response, "405 Method Not Allowed", {"error": "use GET"}, [("Allow", "GET")])
        try:
            query = _query(environ)
            return json_response(start_response, "200 OK", self.answer(query))
        except ValueError as exc:
            return json_response(start_response, "400 Bad Request", {"error": str(exc)})

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError


class AuditLogApp(_ReadApp):
    """GET /admin/audit: the stored records, filtered."""

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        kinds = [query["transaction"]] if query.get("transaction") else None
        records = self.store.records(patient=query.get("patient"), since=query.get("since"),
                                     until=query.get("until"), transactions=kinds, limit=_limit(query))
        return {"records": [record.to_dict() for record in records], "pending": self.store.pending()}


class AccessLogApp(_ReadApp):
    """GET /innsynslogg?patient=CX: the citizen's access log."""

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        patient = query.get("patient")
        if not patient:
            raise ValueError("patient=CX is required")
        entries = access_log(self.store, patient, since=query.get("since"), until=query.get("until"),
                             limit=_limit(query))
        return {"patient": patient, "entries": entries}


def _query(environ: dict[str, Any]) -> dict[str, str]:
    values = {name: items[-1] for name, items in parse_qs(environ.get("QUERY_STRING", "")).items()}
    for name in ("since", "until"):
        if values.get(name):
            values[name] = normalize_time(values[name], name)
    return values


def normalize_time(text: str, name: str = "time") -> str:
    """An RFC 3339 UTC date or time as it compares with the stored `recorded` text."""
    if not _TIME.match(text):
        raise ValueError(f"{name} must be an RFC 3339 date or time, e.g. 2025-03-01T10:00:00Z")
    return text.replace(" ", "T").rstrip("Z")


def _limit(query: dict[str, str]) -> int:
    try:
        limit = int(query.get("limit", MAX_LIMIT))
    except ValueError:
        raise ValueError("limit must be a number") from None
    return max(1, min(limit, MAX_LIMIT))

