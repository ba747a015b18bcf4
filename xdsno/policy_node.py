"""The access policy of a deployment, built from the settings (composition root).

- the policy: `policy_file`, else the bundled xdsno/policy/default_policy.toml (loaded once);
- the patients' blocks: the `patient_block` table in the registry's database — the
  co-located registry's engine, else the engine of `effective_database_url` (a repository or
  gateway node sharing the registry's PostgreSQL database sees the same blocks; one with its
  own SQLite file sees only the blocks stored there);
- a retrieve's metadata (xdsno.policy.metadata): the co-located RegistryService in-process,
  else the registry at `registry_url` or `responding_registry_url` (ITI-18); with neither, a
  retrieve by an identified subject is refused;
- one PolicyEnforcement per process, settings and channel (registry, repository,
  xca_responding), handed to the actor as its `document_access`.
"""
from __future__ import annotations

import os
import threading

from sqlalchemy import Engine

from .policy import BlockStore, PolicyDecisionPoint, PolicyEnforcement, PolicyError, load_policy
from .policy.admin import BlocksAdminApp
from .policy.metadata import RegistryDocuments
from .settings import Settings, SettingsError

_enforcements: dict[tuple[int, Settings, str], PolicyEnforcement] = {}
_block_stores: dict[tuple[int, str], BlockStore] = {}
_lock = threading.RLock()


def document_access(settings: Settings, channel: str) -> PolicyEnforcement:
    """This process's PolicyEnforcement of `channel` for `settings`."""
    key = (os.getpid(), settings, channel)
    with _lock:
        enforcement = _enforcements.get(key)
        if enforcement is None:
            enforcement = _enforcements[key] = PolicyEnforcement(
                decision_point(settings), channel=channel, blocks=block_store(settings),
                documents=_metadata_source(settings))
        return enforcement


def decision_point(settings: Settings) -> PolicyDecisionPoint:
    """The policy of `policy_file`; role "*" means every code of Volven 9060 as this node knows
    it (bundled, or imported into `code_sets_dir`)."""
    try:
        policy = load_policy(settings.policy_file or None)
    except PolicyError as exc:
        raise SettingsError(f"policy_file: {exc}") from None
    from profiles.norway.codesets import load_code_sets

    folder = settings.effective_code_sets_dir
    roles = load_code_sets(folder if folder.is_dir() else None)["9060"].codes
    return PolicyDecisionPoint(policy, role_codes=frozenset(roles))


def block_store(settings: Settings) -> BlockStore:
    """The blocks table on the registry's database (see the module docstring)."""
    key = (os.getpid(), settings.effective_database_url)
    with _lock:
        store = _block_stores.get(key)
        if store is None:
            store = _block_stores[key] = BlockStore(_engine(settings))
        return store


def blocks_admin_app(settings: Settings) -> BlocksAdminApp:
    """GET/POST/DELETE /admin/blocks."""
    return BlocksAdminApp(block_store(settings))


def _engine(settings: Settings) -> Engine:
    from .registry_node import registry_engine

    if "registry" in settings.actors:
        return registry_engine(settings)
    from registry.store import open_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_engine(settings.effective_database_url)


def _metadata_source(settings: Settings) -> RegistryDocuments | None:
    if "registry" in settings.actors and not settings.registry_url:
        from .registry_node import registry_service

        # resolved per call: the registry's own service may still be under construction
        return RegistryDocuments(lambda request: registry_service(settings).query(request))
    url = settings.registry_url or settings.responding_registry_url
    if not url:
        return None
    from xca_gateway.local import SoapRegistry

    from .tls import outbound_tls

    return RegistryDocuments(SoapRegistry(url, verify=outbound_tls(settings)).query)


__all__ = ["block_store", "blocks_admin_app", "decision_point", "document_access"]
