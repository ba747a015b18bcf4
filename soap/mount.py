"""`PathDispatcher`: several WSGI applications under one server, chosen by path prefix.

Owns only the WSGI (PEP 3333) SCRIPT_NAME / PATH_INFO convention: a request for
`/registry/x` reaches the application mounted at `/registry` with SCRIPT_NAME extended by
`/registry` and PATH_INFO `/x`. Prefixes match whole path segments (`/registry` does not
match `/registryx`); the longest prefix wins. An application mounted at `/` gets only `/` itself;
whatever matches no mount goes to `fallback` (default: 404).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


class PathDispatcher:
    def __init__(self, mounts: Mapping[str, WsgiApp], fallback: WsgiApp | None = None):
        normalized = {}
        for prefix, app in mounts.items():
            prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
            if prefix in normalized:
                raise ValueError(f"two applications mounted at {prefix or '/'}")
            normalized[prefix] = app
        # Longest first, so /xca/initiating is tried before /xca.
        self._mounts = sorted(normalized.items(), key=lambda item: len(item[0]), reverse=True)
        self._fallback = fallback or _not_found

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        for prefix, app in self._mounts:
            if _matches(prefix, path):
                scoped = dict(environ)
                scoped["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
                scoped["PATH_INFO"] = path[len(prefix):]
                return app(scoped, start_response)
        return self._fallback(environ, start_response)


def _matches(prefix: str, path: str) -> bool:
    if not prefix:  # mounted at "/": the root itself only; everything else is the fallback's
        return path in ("", "/")
    return path == prefix or path.startswith(prefix + "/")


def _not_found(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    body = b"Not Found\n"
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                     ("Content-Length", str(len(body)))])
    return [body]
