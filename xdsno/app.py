"""Building the one WSGI app of a deployment from the enabled actors' endpoints.

One port serves every enabled actor at a fixed path (README "Endpoints"); `/health`
answers JSON with the version, the enabled actors, their endpoint URLs and the wsa:Actions
each serves; `POST /validate` judges a message against a profile (xdsno.validate_http); with
the registry, `/admin/patients` feeds known patients and `/admin/blocks` manages the patients'
blocks (xdsno.policy). With XUA configured,
every SOAP router verifies the wsse:Security assertion and requires it where `xua_required`
says (xdsno.xua.enforcement). Every SOAP request and admin call leaves one audit record
(xdsno.audit); `GET /admin/audit` and `GET /innsynslogg` read them. Every `/admin/*` endpoint
and `/innsynslogg` sits behind the admin guard (xdsno.admin_auth: admin token, client
certificate, loopback; the citizen's own assertion on /innsynslogg), inside its audit wrapper;
the removals ITI-62 and ITI-86 take the same credentials (xdsno.removal_access).
Each actor's router is built here and handed the plain values it needs, so
actors never read settings or import each other (DESIGN.md §2).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from soap.mount import PathDispatcher
from soap.router import SoapRouter

from . import __version__
from .admin_auth import admin_access, guard_admin_mounts
from .audit.setup import audit_read_apps, install_audit
from .settings import Settings
from .validate_http import VALIDATE_PATH, ValidateApp
from .removal_access import install_removal_guard
from .xua.enforcement import install_xua

#: Endpoint path of each actor under the server's base URL.
ENDPOINT_PATHS = {
    "registry": "/registry",
    "repository": "/repository",
    "xca_responding": "/xca",
    "xca_initiating": "/xca/initiating",
}


def build_app(settings: Settings) -> PathDispatcher:
    routers = {actor: _router_for(actor, settings) for actor in settings.actors}
    install_xua(routers, settings, ENDPOINT_PATHS)
    admins = admin_access(settings)  # one set of admin credentials: /admin/*, /innsynslogg, removals
    install_removal_guard(routers, admins)
    mounts: dict[str, Any] = {ENDPOINT_PATHS[actor]: router for actor, router in routers.items()}
    mounts["/health"] = HealthApp(settings, routers)
    mounts[VALIDATE_PATH] = ValidateApp(settings)
    if "registry" in routers:
        from .registry_node import ADMIN_PATIENTS_PATH, patients_admin_app

        mounts[ADMIN_PATIENTS_PATH] = patients_admin_app(settings)
        from .policy.admin import ADMIN_BLOCKS_PATH
        from .policy_node import blocks_admin_app

        mounts[ADMIN_BLOCKS_PATH] = blocks_admin_app(settings)
    mounts.update(audit_read_apps(settings))
    mounts = guard_admin_mounts(mounts, admins)
    # last: every SOAP endpoint and /admin/* call mounted above gets its audit record, refused ones too
    return PathDispatcher(install_audit(mounts, settings, ENDPOINT_PATHS))


def _router_for(actor: str, settings: Settings) -> SoapRouter:
    """The actor's SOAP router; the actor issues register their transactions on it."""
    if actor == "registry":
        from .registry_node import registry_router

        return registry_router(settings)
    if actor == "repository":
        from .repository_node import repository_router

        return repository_router(settings)
    if actor == "xca_responding":
        from .xca_node import responding_router

        return responding_router(settings)
    if actor == "xca_initiating":
        from .xca_initiating_node import initiating_router

        return initiating_router(settings)
    return SoapRouter(max_xml_bytes=settings.max_xml_bytes)


class HealthApp:
    """GET /health: what this node is and what it serves, as JSON."""

    def __init__(self, settings: Settings, routers: Mapping[str, SoapRouter]):
        self._settings = settings
        self._routers = routers

    def document(self) -> dict[str, Any]:
        base = self._settings.base_url
        return {
            "status": "ok",
            "version": __version__,
            "profile": self._settings.profile,
            "home_community_id": self._settings.home_community_id,
            "actors": {
                actor: {"url": base + ENDPOINT_PATHS[actor], "actions": sorted(router.actions)}
                for actor, router in self._routers.items()
            },
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
            return [b""]
        document = self.document()
        if environ.get("HTTPS") == "on":  # served over TLS: who this node sees calling (ITI-19)
            document["tls"] = {"client_certificate": environ.get("SSL_CLIENT_S_DN")}
        body = json.dumps(document, indent=2).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body] if environ["REQUEST_METHOD"] == "GET" else [b""]
