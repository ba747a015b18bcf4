"""How the harness starts its own node: `xdsno serve --profile ihe` configured with the
harness's patient domain, home community id and repository uniqueId."""
from __future__ import annotations

from .identities import Identity


def serve_arguments(identity: Identity, database_url: str | None = None) -> list[str]:
    """`xdsno serve` options (after host, port and data folder) for a node under test."""
    args = [
        "--profile", "ihe",
        "--patient-domain", identity.patient_root,
        "--home-community-id", identity.home_community_id,
        "--repository-unique-id", identity.repository_unique_id,
    ]
    if database_url:
        args += ["--database-url", database_url]
    return args
