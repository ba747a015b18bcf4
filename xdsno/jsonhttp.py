"""JSON over WSGI for the node's small admin and log endpoints (/admin/*, /innsynslogg)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def json_response(start_response: Callable, status: str, document: dict,
                  extra_headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"
    start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Length", str(len(body))), *(extra_headers or [])])
    return [body]


def read_json_object(environ: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object; ValueError naming what is wrong."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("Content-Length is not a number") from None
    if length <= 0 or length > max_bytes:
        raise ValueError(f"a JSON body of 1 to {max_bytes} bytes is required")
    try:
        document = json.loads(environ["wsgi.input"].read(length))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    return document
