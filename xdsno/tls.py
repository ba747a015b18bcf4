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

Contexts are built once per process and files (a forked gunicorn worker builds its own) and
shared by every connection; a file that cannot be loaded is a SettingsError naming the setting.
"""
from __future__ import annotations

import contextlib
import os
import ssl
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from xca_gateway.communities import Community

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
CLIENT_AUTH_MODES = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}

_contexts: dict[tuple, ssl.SSLContext] = {}
_lock = threading.Lock()


def server_context(settings: Settings) -> ssl.SSLContext:
    """This process's TLS server context for the node's settings (ITI-19)."""
    key = ("server", settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file,
           settings.tls_client_auth)
    return _cached(key, lambda: _new_server_context(settings))


def outbound_tls(settings: Settings) -> ssl.SSLContext:
    """The context of the node's outbound https calls: verify the server, present our certificate."""
    cert, key = outbound_certificate(settings)
    return client_context(settings.tls_ca_file, cert, key)


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
    return client_context(community.tls_ca_file or settings.tls_ca_file, cert, key)


def client_context(ca_file: str = "", cert_file: str = "", key_file: str = "") -> ssl.SSLContext:
    """A TLS client context: servers verified against `ca_file` (else the system CAs), host names
    checked, `cert_file` (with `key_file`, or the key inside it) presented when given."""
    return _cached(("client", ca_file, cert_file, key_file),
                   lambda: _new_client_context(ca_file, cert_file, key_file))


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
    return context


def _new_client_context(ca_file: str, cert_file: str, key_file: str) -> ssl.SSLContext:
    # the configured CAs replace the system ones: a node trusts its health network's CA only
    with _loading("tls_ca_file", ca_file):
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.minimum_version = MINIMUM_VERSION
    if cert_file:
        with _loading("tls_client_cert_file/tls_client_key_file", cert_file, key_file):
            context.load_cert_chain(cert_file, key_file or None)
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
