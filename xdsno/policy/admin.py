"""`/admin/blocks`: the patients' blocks (sperring, xdsno.policy.blocks) over HTTP, JSON.

    POST   /admin/blocks        {"patient": CX, "document_unique_id" | "author_organisation",
                                 "hpr_number" | "organisation", "note"}  → 201 {"block": {...}}
    GET    /admin/blocks?patient=CX                                      → 200 {"blocks": [...]}
    GET    /admin/blocks/<id>                                            → 200 {"block": {...}}
    DELETE /admin/blocks/<id>                                            → 200 {"removed": {...}}

A block that cannot be stored answers 400 naming every problem; an unknown id 404. Like
/admin/patients it sits behind the node's admin guard (xdsno.admin_auth). The patient of each
call is left in the audit notes (xdsno.audit).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from xdsno.jsonhttp import json_response, read_json_object

from .blocks import Block, BlockError, BlockStore, new_block

ADMIN_BLOCKS_PATH = "/admin/blocks"
MAX_BODY_BYTES = 64 * 1024


class BlocksAdminApp:
    """WSGI application for /admin/blocks."""

    def __init__(self, store: BlockStore):
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").strip("/")
        method = environ.get("REQUEST_METHOD")
        if not path:
            if method == "GET":
                return self._list(environ, start_response)
            if method == "POST":
                return self._create(environ, start_response)
            return json_response(start_response, "405 Method Not Allowed", {"error": "use GET or POST"},
                         [("Allow", "GET, POST")])
        if not path.isdigit():
            return json_response(start_response, "404 Not Found", {"error": "no such admin resource"})
        if method in ("GET", "DELETE"):
            return self._one(environ, start_response, int(path), remove=method == "DELETE")
        return json_response(start_response, "405 Method Not Allowed", {"error": "use GET or DELETE"},
                     [("Allow", "GET, DELETE")])

    def _list(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        patients = parse_qs(environ.get("QUERY_STRING", "")).get("patient", [])
        if len(patients) != 1 or not patients[0].strip():
            return json_response(start_response, "400 Bad Request", {"error": "name one patient: ?patient=CX"})
        blocks = self.store.for_patients(patients)
        return json_response(start_response, "200 OK", {"blocks": [block.as_dict() for block in blocks]})

    def _create(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        try:
            block = self.store.add(new_block(read_json_object(environ, MAX_BODY_BYTES)))
        except (ValueError, BlockError) as exc:
            return json_response(start_response, "400 Bad Request", {"error": str(exc)})
        _note_patient(environ, block)
        return json_response(start_response, "201 Created", {"block": block.as_dict()})

    def _one(self, environ: dict[str, Any], start_response: Callable, block_id: int, *, remove: bool) -> list[bytes]:
        block = self.store.remove(block_id) if remove else self.store.get(block_id)
        if block is None:
            return json_response(start_response, "404 Not Found", {"error": f"no block {block_id}"})
        _note_patient(environ, block)
        return json_response(start_response, "200 OK", {"removed" if remove else "block": block.as_dict()})


def _note_patient(environ: dict[str, Any], block: Block) -> None:
    notes = environ.get("xdsno.audit")
    if isinstance(notes, MutableMapping):
        notes.setdefault("patients", []).append(block.patient_id)


__all__ = ["ADMIN_BLOCKS_PATH", "BlocksAdminApp"]
