"""The Document Repository of a deployment, built from the settings (composition root).

- blob store: `blob_store` = filesystem (folder `effective_blob_dir`) or s3 (`s3_*`);
- index: the `repository_document` table in the deployment's database when `database_url`
  is set (next to the registry's tables), else its own SQLite file
  `data_dir/repository.sqlite3` (see repository.index for why);
- registry: `registry_url` when set (ITI-42 over SOAP; https with the node's client certificate,
  xdsno.tls); else the co-located registry
  in-process when the registry actor runs on this node, taking the decoded submission itself
  (RegistryService.register_submission: no second decode, no second run of the same rules);
  else the node cannot start;
- repositoryUniqueId, profile (with its extras), strict and patient domains from the settings;
- ITI-43 screened by the access policy (xdsno.policy_node, channel "repository").

One service per process and settings, like the registry's: `build_app` runs once per process
(waitress) or per gunicorn worker after the fork. The XCA Responding Gateway gets the same
service in-process through `repository_service(settings)`.
"""
from __future__ import annotations

import os
import threading

from repository.endpoints import build_repository_router
from repository.index import open_document_index
from repository.registry_client import InProcessRegistryClient, RegistryClient, SoapRegistryClient
from repository.service import RepositoryService
from repository.store import BlobStoreError, open_blob_store
from soap.router import SoapRouter

from .policy_node import document_access
from .profiles_setup import profile_and_extras
from .settings import Settings, SettingsError
from .tls import outbound_tls

_services: dict[tuple[int, Settings], RepositoryService] = {}
_lock = threading.Lock()


def repository_service(settings: Settings) -> RepositoryService:
    """This process's RepositoryService for `settings`."""
    key = (os.getpid(), settings)
    with _lock:
        service = _services.get(key)
        if service is None:
            service = _services[key] = _build(settings)
        return service


def repository_router(settings: Settings) -> SoapRouter:
    """The repository's SOAP router (ITI-41, ITI-43, ITI-86)."""
    return build_repository_router(repository_service(settings), max_xml_bytes=settings.max_xml_bytes)


def index_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'repository.sqlite3').resolve()}"


def blob_store(settings: Settings):
    try:
        return open_blob_store(
            settings.blob_store, root=settings.effective_blob_dir, endpoint=settings.s3_endpoint or None,
            bucket=settings.s3_bucket or None, access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key or None, secure=settings.s3_secure,
            region=settings.s3_region or None,
        )
    except BlobStoreError as exc:
        raise SettingsError(f"blob store: {exc}") from None


def registry_client(settings: Settings) -> RegistryClient:
    if settings.registry_url:
        from .app import ENDPOINT_PATHS
        from .audit.outbound import OutboundAudit
        from .audit.setup import audit_recorder

        audit = OutboundAudit(audit_recorder(settings), actor="repository",
                              local_url=settings.base_url + ENDPOINT_PATHS["repository"])
        return SoapRegistryClient(settings.registry_url, verify=outbound_tls(settings), observer=audit)
    if "registry" not in settings.actors:
        raise SettingsError("the repository needs a registry: enable the registry actor on this node "
                            "or set registry_url")
    from .registry_node import registry_service

    registry = registry_service(settings)
    return InProcessRegistryClient(registry.register, registry.register_submission)


def _build(settings: Settings) -> RepositoryService:
    profile, extras = profile_and_extras(settings)
    return RepositoryService(
        blob_store(settings), open_document_index(index_url(settings)), registry_client(settings), profile,
        repository_unique_id=settings.repository_unique_id, strict=settings.strict,
        patient_domains=settings.patient_domains, validation_extras=extras,
        document_access=document_access(settings, "repository"),
    )
