"""The communities directory: which Responding Gateways an Initiating Gateway asks, and where.

Owns the communities file and its checks. An XCA Initiating Gateway (ITI TF-1 18.2.1; ITI TF-2
3.38.4.1.3 and 3.39.4.1.3) sends ITI-38 to the Responding Gateway of every community it knows and
routes ITI-39 by homeCommunityId; this directory is that knowledge.

The communities file is TOML, one `[[community]]` table per Responding Gateway:

    # communities.toml
    [[community]]
    home_community_id = "urn:oid:2.16.578.1.12.4.1.7.1.2"   # required, urn:oid:<OID>, unique
    name = "Helse Nord"                                     # required, unique, for error texts
    query_url = "https://xca.helse-nord.example/xca"       # required, ITI-38 endpoint (http/https)
    retrieve_url = "https://xca.helse-nord.example/xca"    # optional, ITI-39 endpoint; default query_url
    timeout_seconds = 10                                    # optional, per-request timeout; default 10
    max_connections = 8                                     # optional, HTTP connections to it; default 8
    tls_ca_file = "helse-nord-ca.pem"                       # optional, CAs verifying its https server
    tls_client_cert_file = "national-to-nord.pem"           # optional, client certificate presented to it
    tls_client_key_file = "national-to-nord-key.pem"        # optional, its key (else in the cert file)

    [[community]]
    home_community_id = "urn:oid:2.16.578.1.12.4.1.7.1.3"
    name = "Helse Vest"
    query_url = "http://127.0.0.1:8082/xca"

A file without any `[[community]]` is a valid, empty directory. Unknown keys are errors (a typo
such as `timeout = 5` must not silently fall back to the default). The `tls_*` keys override, for
one community, the node's own outbound TLS settings (ATNA ITI-19: `tls_ca_file`,
`tls_client_cert_file`, `tls_client_key_file`; empty means the node's); relative paths are
relative to the communities file's folder.
"""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS = 8
#: per-community overrides of the node's outbound TLS files (ATNA ITI-19)
TLS_KEYS = ("tls_ca_file", "tls_client_cert_file", "tls_client_key_file")

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_REQUIRED = ("home_community_id", "name", "query_url")
_OPTIONAL = ("retrieve_url", "timeout_seconds", "max_connections") + TLS_KEYS


class CommunitiesFileError(ValueError):
    """The communities file cannot be used; the message names the file, entry and key."""


@dataclass(frozen=True, slots=True)
class Community:
    """One Responding Gateway: the community it answers for and its two endpoints."""

    home_community_id: str
    name: str
    query_url: str
    retrieve_url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    #: outbound TLS overrides for this community; empty: the node's own
    tls_ca_file: str = ""
    tls_client_cert_file: str = ""
    tls_client_key_file: str = ""

    @property
    def label(self) -> str:
        """How error texts name the community: `Helse Nord (urn:oid:…)`."""
        return f"{self.name} ({self.home_community_id})"


class CommunityDirectory:
    """The known communities in file order, looked up by homeCommunityId."""

    def __init__(self, communities: Iterable[Community] = ()):
        self._by_id: dict[str, Community] = {}
        for community in communities:
            if community.home_community_id in self._by_id:
                raise ValueError(f"community {community.home_community_id} listed twice")
            self._by_id[community.home_community_id] = community

    def get(self, home_community_id: str) -> Community | None:
        return self._by_id.get(home_community_id.strip())

    def __contains__(self, home_community_id: object) -> bool:
        return isinstance(home_community_id, str) and self.get(home_community_id) is not None

    def __iter__(self) -> Iterator[Community]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)


def load_communities(path: str | Path) -> CommunityDirectory:
    """Read and check a communities file; raises CommunitiesFileError naming what is wrong."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise CommunitiesFileError(f"communities file {path} does not exist") from None
    except OSError as exc:
        raise CommunitiesFileError(f"communities file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CommunitiesFileError(f"communities file {path} is not valid TOML: {exc}") from None
    return parse_communities(data, source=str(path), base_dir=path.parent)


def parse_communities(data: dict[str, Any], *, source: str = "communities",
                      base_dir: Path | None = None) -> CommunityDirectory:
    """The directory described by already-parsed TOML data (see the module docstring);
    relative TLS file paths are resolved against `base_dir` when given."""
    unknown = sorted(set(data) - {"community"})
    if unknown:
        raise CommunitiesFileError(f"{source}: unknown top-level key(s) {', '.join(unknown)}; "
                                   "communities are listed as [[community]] tables")
    entries = data.get("community", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise CommunitiesFileError(f"{source}: 'community' must be an array of tables ([[community]])")
    communities = [_community(entry, f"{source}: community #{number}", base_dir)
                   for number, entry in enumerate(entries, 1)]
    _check_unique(communities, source)
    return CommunityDirectory(communities)


def _community(entry: dict[str, Any], where: str, base_dir: Path | None = None) -> Community:
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CommunitiesFileError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                                   f"known: {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise CommunitiesFileError(f"{where}: missing required key(s) {', '.join(missing)}")
    home = _home_community_id(_text(entry, "home_community_id", where), where)
    where = f"{where} ({home})"
    query_url = _url(_text(entry, "query_url", where), "query_url", where)
    retrieve_url = _url(_text(entry, "retrieve_url", where), "retrieve_url", where) \
        if "retrieve_url" in entry else query_url
    return Community(
        home_community_id=home,
        name=_text(entry, "name", where),
        query_url=query_url,
        retrieve_url=retrieve_url,
        timeout_seconds=_timeout(entry.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS), where),
        max_connections=_max_connections(entry.get("max_connections", DEFAULT_MAX_CONNECTIONS), where),
        **{key: _tls_path(entry, key, where, base_dir) for key in TLS_KEYS if key in entry},
    )


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise CommunitiesFileError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _tls_path(entry: dict[str, Any], key: str, where: str, base_dir: Path | None) -> str:
    path = Path(_text(entry, key, where))
    return str(base_dir / path if base_dir is not None and not path.is_absolute() else path)


def _home_community_id(value: str, where: str) -> str:
    # ITI TF-3 4.2.3.1.7 / XCA: a homeCommunityId is an OID in URN syntax.
    if not value.startswith("urn:oid:") or not _OID.match(value[len("urn:oid:"):]):
        raise CommunitiesFileError(f"{where}: home_community_id {value!r} is not urn:oid:<OID>")
    return value


def _url(value: str, key: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommunitiesFileError(f"{where}: {key} {value!r} is not an http:// or https:// URL")
    return value


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise CommunitiesFileError(f"{where}: timeout_seconds must be a positive number, got {value!r}")
    return float(value)


def _max_connections(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CommunitiesFileError(f"{where}: max_connections must be a positive integer, got {value!r}")
    return value


def _check_unique(communities: list[Community], source: str) -> None:
    for attribute in ("home_community_id", "name"):
        seen: set[str] = set()
        for community in communities:
            value = getattr(community, attribute)
            if value in seen:
                raise CommunitiesFileError(f"{source}: {attribute} {value!r} is listed twice")
            seen.add(value)
