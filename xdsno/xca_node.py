"""The XCA Responding Gateway of a deployment, built from the settings (composition root).

The gateway fronts this community's registry and repositories (ITI TF-1 18.2.2):
- the registry: the co-located RegistryService in-process when the `registry` actor runs on
  this node, else the ITI-18 endpoint at `responding_registry_url`;
- the repositories: the co-located repository in-process (under `repository_unique_id`) when
  the `repository` actor runs here, plus every `repositoryUniqueId=URL` of
  `responding_repositories`, asked with ITI-43 over SOAP.
Both over https present the node's client certificate and verify the server (xdsno.tls, ITI-19).
ITI-38/39 answers are screened by the access policy (xdsno.policy_node, channel "xca_responding").
"""
from __future__ import annotations

from soap.router import SoapRouter
from xca_gateway.endpoints import build_responding_router
from xca_gateway.local import LocalRegistry, LocalRepository, SoapRegistry, SoapRepository
from xca_gateway.responding import RespondingGateway

from .policy_node import document_access
from .settings import Settings, SettingsError
from .tls import outbound_tls


def responding_gateway(settings: Settings) -> RespondingGateway:
    """The Responding Gateway for this node's community."""
    if not settings.home_community_id.startswith("urn:oid:"):
        raise SettingsError(f"home_community_id {settings.home_community_id!r} is not urn:oid:<OID> "
                            "(ITI TF-2 3.38.4.1.2.1)")
    return RespondingGateway(settings.home_community_id, _registry(settings), _repositories(settings),
                             document_access=document_access(settings, "xca_responding"))


def responding_router(settings: Settings) -> SoapRouter:
    """The Responding Gateway's SOAP router (ITI-38, ITI-39)."""
    return build_responding_router(responding_gateway(settings), max_xml_bytes=settings.max_xml_bytes)


def _registry(settings: Settings) -> LocalRegistry:
    if settings.responding_registry_url:
        return SoapRegistry(settings.responding_registry_url, verify=outbound_tls(settings))
    if "registry" not in settings.actors:
        raise SettingsError("xca_responding needs a registry: enable the registry actor on this node "
                            "or set responding_registry_url")
    from .registry_node import registry_service

    return registry_service(settings)


def _repositories(settings: Settings) -> dict[str, LocalRepository]:
    repositories: dict[str, LocalRepository] = {
        unique_id: SoapRepository(url, verify=outbound_tls(settings))
        for unique_id, url in settings.responding_repository_urls.items()
    }
    if "repository" in settings.actors:
        repositories[settings.repository_unique_id] = _co_located_repository(settings)
    return repositories


def _co_located_repository(settings: Settings) -> LocalRepository:
    # RepositoryService.retrieve(body) -> (response, attachments) is the LocalRepository shape.
    from .repository_node import repository_service

    return repository_service(settings)
