"""The Document Registry of a deployment, built from the settings (composition root).

One SQLAlchemy engine per process and database URL: `build_app` runs once per process
(waitress) or once per gunicorn worker after the fork, and a forked worker never reuses a
connection pool of its parent (the cache is keyed by process id). The schema is created (or
migrated) when the engine is first built. The repository, when co-located, gets the same
`RegistryService` in-process through `registry_service(settings)`. ITI-18 answers are screened
by the access policy (xdsno.policy_node, channel "registry").
"""
from __future__ import annotations

import os
import threading

from sqlalchemy import Engine

from profiles.rules import Transaction, ValidationContext
from registry.admin import PatientsAdminApp
from registry.endpoints import build_registry_router
from registry.service import RegistryService
from registry.store import create_schema, open_engine
from soap.router import SoapRouter

from .profiles_setup import profile_and_extras
from .settings import Settings

#: admin path of the known-patients call (README "Endpoints"); behind the admin guard (xdsno.admin_auth)
ADMIN_PATIENTS_PATH = "/admin/patients"

_engines: dict[tuple[int, str], Engine] = {}
_services: dict[tuple[int, Settings], RegistryService] = {}
_lock = threading.Lock()


def registry_engine(settings: Settings) -> Engine:
    """This process's engine for the registry database, its schema created on first use."""
    key = (os.getpid(), settings.effective_database_url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = open_engine(settings.effective_database_url)
            create_schema(engine)
            _engines[key] = engine
        return engine


def registry_service(settings: Settings) -> RegistryService:
    """This process's RegistryService for `settings`."""
    key = (os.getpid(), settings)
    engine = registry_engine(settings)
    access = _document_access(settings)  # outside the lock: it takes the engine too
    with _lock:
        service = _services.get(key)
        if service is None:
            # The same profile and extras (Norwegian options such as synthetic persons) as
            # the repository's ITI-41 check, so both judge a submission alike.
            profile, extras = profile_and_extras(settings)
            service = RegistryService(
                engine, profile,
                ValidationContext(Transaction.REGISTER, strict=settings.strict, extras=extras),
                patient_domains=settings.patient_domains,
                known_patients_only=settings.known_patients_only,
                query_result_limit=settings.query_result_limit,
                home_community_id=settings.home_community_id or None,
                document_access=access,
            )
            _services[key] = service
        return service


def _document_access(settings: Settings):
    from .policy_node import document_access

    return document_access(settings, "registry")


def registry_router(settings: Settings) -> SoapRouter:
    """The registry's SOAP router (ITI-42, ITI-18, ITI-51, ITI-62)."""
    return build_registry_router(registry_service(settings), max_xml_bytes=settings.max_xml_bytes)


def patients_admin_app(settings: Settings) -> PatientsAdminApp:
    """GET/POST /admin/patients on the registry's database."""
    return PatientsAdminApp(registry_engine(settings))
