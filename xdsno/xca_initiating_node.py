"""The XCA Initiating Gateway of a deployment, built from the settings (composition root).

Communities come from `communities_file` (format: xca_gateway/communities.py; none when empty),
the one deadline from `xca_deadline_seconds`, the bound of outbound requests in flight from
`xca_max_outbound_requests`, the TLS of each community's https endpoints from xdsno.tls (the
node's client certificate and CAs, or the community's overrides; ATNA ITI-19). The gateway
lives as long as the process: its worker pool and connection pools are shared by every request.
"""
from __future__ import annotations

import logging
from functools import partial

from soap.router import SoapRouter
from xca_gateway.communities import CommunitiesFileError, CommunityDirectory, load_communities
from xca_gateway.initiating import InitiatingGateway
from xca_gateway.initiating_endpoints import build_initiating_router

from .audit.outbound import OutboundAudit
from .audit.setup import audit_recorder
from .settings import Settings, SettingsError
from .tls import community_tls

log = logging.getLogger("xdsno.xca_initiating")


def communities(settings: Settings) -> CommunityDirectory:
    """The communities directory named by the settings; a bad file is a SettingsError."""
    if not settings.communities_file:
        log.warning("xca_initiating runs without communities_file: every query answers with no community")
        return CommunityDirectory()
    try:
        return load_communities(settings.communities_file)
    except CommunitiesFileError as exc:
        raise SettingsError(f"communities_file: {exc}") from None


def initiating_gateway(settings: Settings) -> InitiatingGateway:
    return InitiatingGateway(communities(settings), deadline_seconds=settings.xca_deadline_seconds,
                             max_outstanding=settings.xca_max_outbound_requests,
                             tls=partial(community_tls, settings), observer=outbound_audit(settings))


def outbound_audit(settings: Settings) -> OutboundAudit:
    """The observer auditing the gateway's outbound ITI-38/39 in this node's audit store."""
    from .app import ENDPOINT_PATHS

    return OutboundAudit(audit_recorder(settings), actor="xca_initiating",
                         local_url=settings.base_url + ENDPOINT_PATHS["xca_initiating"])


def initiating_router(settings: Settings) -> SoapRouter:
    """The Initiating Gateway's SOAP router (ITI-18/ITI-38, ITI-43/ITI-39)."""
    return build_initiating_router(initiating_gateway(settings), max_xml_bytes=settings.max_xml_bytes)
