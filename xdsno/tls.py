"""TLS of the ATNA secure node (ITI-19, ITI TF-2 3.19 "Authenticate Node"): both directions.

- Serving: `server_context(settings)` is this node's TLS server side — its certificate and key,
  TLS 1.2 or later with Python's default (BCP 195 grade) cipher suites, and the client
  certificates verified against `tls_ca_file` as `tls_client_auth` says (none, optional,
  required). `gunicorn_options(settings)` hands it to gunicorn (xdsno.server), which serves
  TLS; waitress cannot.
- Outbound: `outbound_tls(settings)` is the one SSLContext every outbound https call of the
  node uses (repository → registry ITI-42, responding gateway → registry/repositories ITI-18/43,
  initiating → responding gateways ITI-38/39, the CLI → its node): the server is verified
  against `tls_ca_file` (the system CAs when empty), and the node presents
  `tls_client_cert_file`/`tls_client_key_file`, by default its own certificate (node
  certificates carry both serverAuth and clientAuth). `community_tls` applies an XCA
  community's overrides from the communities file; `client_context` builds one for any files.
  The context goes to httpx as `verify=`, which carries the client certificate too (httpx 0.28
  deprecates its separate `cert=` and string `verify=`).

Revocation (`tls_crl_file`, xdsno.revocation): the CRLs go into the server context and into
every outbound context that trusts `tls_ca_file`, with VERIFY_CRL_CHECK_LEAF — the peer's own
certificate is checked against its issuer's CRL. Leaf only, not VERIFY_CRL_CHECK_CHAIN: a
health network's nodes are issued directly by the CAs of `tls_ca_file`, which are trust anchors
configured here (revoking one is taking it out of that file); the chain check would also demand
a CRL for every intermediate and root. OpenSSL then refuses, failing closed:
- a revoked certificate ("certificate revoked");
- any certificate of a CA whose CRL is past its nextUpdate ("CRL has expired") — install a
  fresh CRL (`xdsno certs crl` renews a development one) and restart, or send the gunicorn
  master HUP: new workers read the file again;
- any certificate of a CA without a CRL in the file ("unable to get certificate CRL"); a node
  therefore refuses to start when a CA of `tls_ca_file` has none (xdsno.revocation), and
  `tls_crl_file` needs `tls_ca_file` (the system CAs come with no CRLs).
An XCA community with its own `tls_ca_file` (communities file) is not checked against the
node's CRLs, which are for the node's CAs.

Contexts are built once per process and files (a forked gunicorn worker builds its own) and
shared by every connection; a file that cannot be loaded is a SettingsError naming the setting.
"""
from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import revocation
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from xca_gateway.communities import Community

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
CLIENT_AUTH_MODES = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}

log = logging.getLogger("xdsno.tls")

_contexts: dict[tuple, ssl.SSLContext] = {}
_lock = threading.Lock()


def server_context(settings: Settings) -> ssl.SSLContext:
    """This process's TLS server context for the node's settings (ITI-19)."""
    key = ("server", settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file,
           settings.tls_client_auth, settings.tls_crl_file)
    return _cached(key, lambda: _new_server_context(settings))


def outbound_tls(settings: Settings) -> ssl.SSLContext:
    """The context of the node's outbound https calls: verify the server, present our certificate."""
    cert, key = outbound_certificate(settings)
    return client_context(settings.tls_ca_file, cert, key, settings.tls_crl_file)


def outbound_certificate(settings: Settings) -> tuple[str, str]:
    """(certificate, key) files the node presents outbound: the client ones, else its own."""
    if settings.tls_client_cert_file:
        return settings.tls_client_cert_file, settings.tls_client_key_file
    return settings.tls_cert_file, settings.tls_key_file


def community_tls(settings: Settings, community: Community) -> ssl.SSLContext:
    """The outbound context for one XCA community: its `tls_*` overrides (communities file),
    else the node's. A community naming its own certificate uses its own key too."""
    cert, key = outbound_certificate(settings)
    if community.tls_client_cert_file:
        cert, key = community.tls_client_cert_file, community.tls_client_key_file
    if community.tls_ca_file:
        return client_context(community.tls_ca_file, cert, key)
    return client_context(settings.tls_ca_file, cert, key, settings.tls_crl_file)


def client_context(ca_file: str = "", cert_file: str = "", key_file: str = "",
                   crl_file: str = "") -> ssl.SSLContext:
    """A TLS client context: servers verified against `ca_file` (else the system CAs), host names
    checked, `cert_file` (with `key_file`, or the key inside it) presented when given, server
    certificates checked against the CRLs of `crl_file` when given."""
    return _cached(("client", ca_file, cert_file, key_file, crl_file),
                   lambda: _new_client_context(ca_file, cert_file, key_file, crl_file))


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn settings serving TLS with `server_context` (one context per worker process)."""
    return {
        "certfile": settings.tls_cert_file,
        "keyfile": settings.tls_key_file or None,
        "ca_certs": settings.tls_ca_file or None,
        "cert_reqs": CLIENT_AUTH_MODES[settings.tls_client_auth],
        # gunicorn asks for a context per connection; ours is built once and shared
        "ssl_context": lambda _config, _default_factory: server_context(settings),
    }


def _new_server_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    with _loading("tls_cert_file/tls_key_file", settings.tls_cert_file, settings.tls_key_file):
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file or None)
    if settings.tls_client_auth != "none":
        with _loading("tls_ca_file", settings.tls_ca_file):
            context.load_verify_locations(cafile=settings.tls_ca_file)
        context.verify_mode = CLIENT_AUTH_MODES[settings.tls_client_auth]
        _check_revocation(context, settings.tls_crl_file, settings.tls_ca_file)
    return context


def _check_revocation(context: ssl.SSLContext, crl_file: str, ca_file: str) -> None:
    """Load the CRLs of `crl_file` (one per CA of `ca_file`) and check the peer's certificate."""
    if not crl_file:
        return
    crls = revocation.check_coverage(crl_file, ca_file)
    for stale in revocation.expired(crls, datetime.now(timezone.utc)):
        log.warning("tls_crl_file: the CRL of %s has expired: that CA's certificates are refused", stale)
    with _loading(revocation.SETTING, crl_file):
        context.load_verify_locations(cafile=crl_file)
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def _new_client_context(ca_file: str, cert_file: str, key_file: str, crl_file: str) -> ssl.SSLContext:
    # the configured CAs replace the system ones: a node trusts its health network's CA only
    with _loading("tls_ca_file", ca_file):
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.minimum_version = MINIMUM_VERSION
    if cert_file:
        with _loading("tls_client_cert_file/tls_client_key_file", cert_file, key_file):
            context.load_cert_chain(cert_file, key_file or None)
    if ca_file:
        _check_revocation(context, crl_file, ca_file)
    return context


@contextlib.contextmanager
def _loading(setting: str, *paths: str) -> Iterator[None]:
    """Turns a certificate, key or CA file that cannot be loaded into a SettingsError."""
    try:
        yield
    except FileNotFoundError as exc:
        missing = exc.filename or next((p for p in paths if p and not os.path.exists(p)), paths[0])
        raise SettingsError(f"{setting}: {missing} does not exist") from None
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(f"{setting}: cannot load {' / '.join(p for p in paths if p)}: {exc}") from None


def _cached(key: tuple, build) -> ssl.SSLContext:
    key = (os.getpid(), *key)
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = _contexts[key] = build()
        return context
