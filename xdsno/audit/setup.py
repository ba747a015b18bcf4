"""The audit of a deployment, built from the settings (composition root).

- store: the `audit_*` tables in the `database_url` database when one is set, else their own
  SQLite file `data_dir/audit.sqlite3` (audit inserts never wait for the registry's write lock);
- destinations: `audit_syslog` (host:port; `audit_syslog_tls` for RFC 5425 with the node's
  outbound TLS context; `audit_syslog_format` dicom|balp) and `audit_fhir_url` (BALP
  AuditEvent by POST);
- one recorder and one shipper thread per process and settings (after the fork under gunicorn,
  like the registry's engine);
- `audit_read_apps(settings)`: `GET /admin/audit` and `GET /innsynslogg` on this store (the
  composition root puts the admin guard, xdsno.admin_auth, around them);
- `install_audit(mounts, settings)`: every SOAP endpoint, every `/admin/*` call and the
  innsynslogg of the app wrapped (xdsno.audit.capture), outside any guard: refusals are
  recorded too.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from registry.store import open_engine

from .. import __version__
from ..settings import Settings, SettingsError
from .capture import AuditedAdmin, AuditedEndpoint, AuditRecorder, NodeIdentity
from .fhir import FhirSender
from .http import ACCESS_LOG_PATH, ADMIN_AUDIT_PATH, AccessLogApp, AuditLogApp
from .shipper import Sender, Shipper
from .store import AuditStore
from .syslog import SyslogFormat, SyslogSender

_stores: dict[tuple[int, str], AuditStore] = {}
_recorders: dict[tuple[int, Settings], tuple[AuditRecorder, Shipper]] = {}
_lock = threading.Lock()


def audit_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'audit.sqlite3').resolve()}"


def audit_store(settings: Settings) -> AuditStore:
    """This process's audit store, its tables created on first use."""
    key = (os.getpid(), audit_database_url(settings))
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = AuditStore(open_engine(key[1]))
            store.create_schema()
            _stores[key] = store
        return store


def audit_recorder(settings: Settings) -> AuditRecorder:
    """This process's recorder for `settings`, its shipper thread started."""
    return _recorder_and_shipper(settings)[0]


def audit_shipper(settings: Settings) -> Shipper:
    return _recorder_and_shipper(settings)[1]


def _recorder_and_shipper(settings: Settings) -> tuple[AuditRecorder, Shipper]:
    store = audit_store(settings)
    key = (os.getpid(), settings)
    with _lock:
        built = _recorders.get(key)
        if built is None:
            senders = audit_senders(settings)
            shipper = Shipper(store, senders, max_backoff=settings.audit_retry_max_seconds)
            recorder = AuditRecorder(store, node_identity(settings), destinations=[s.name for s in senders],
                                     on_append=shipper.wake)
            shipper.start()
            built = _recorders[key] = (recorder, shipper)
        return built


def node_identity(settings: Settings) -> NodeIdentity:
    return NodeIdentity(source_id=settings.audit_source_id or settings.base_url,
                        site_id=settings.home_community_id, base_url=settings.base_url)


def audit_senders(settings: Settings) -> list[Sender]:
    senders: list[Sender] = []
    if settings.audit_syslog:
        host, port = syslog_address(settings.audit_syslog)
        context = _outbound_tls(settings) if settings.audit_syslog_tls else None
        formatter = SyslogFormat(payload=settings.audit_syslog_format, version=__version__)
        senders.append(SyslogSender(host, port, formatter=formatter, ssl_context=context))
    if settings.audit_fhir_url:
        verify = _outbound_tls(settings) if settings.audit_fhir_url.startswith("https:") else True
        senders.append(FhirSender(settings.audit_fhir_url, verify=verify))
    return senders


def syslog_address(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[addr]:port`) of the syslog receiver."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"audit_syslog {value!r} is not host:port")
    return host, int(port)


def audit_read_apps(settings: Settings) -> dict[str, Any]:
    """The audit's own read endpoints (path → WSGI app)."""
    store = audit_store(settings)
    return {ADMIN_AUDIT_PATH: AuditLogApp(store), ACCESS_LOG_PATH: AccessLogApp(store)}


def install_audit(mounts: Mapping[str, Any], settings: Settings, endpoint_paths: Mapping[str, str]) -> dict[str, Any]:
    """`mounts` (path → WSGI app) with every SOAP endpoint, admin call and innsynslogg read audited."""
    recorder = audit_recorder(settings)
    actors_by_path = {path: actor for actor, path in endpoint_paths.items()}
    audited: dict[str, Any] = {}
    for path, app in mounts.items():
        if path in actors_by_path:
            app = AuditedEndpoint(app, recorder, actor=actors_by_path[path], path=path)
        elif path.startswith("/admin/") or path == ACCESS_LOG_PATH:
            app = AuditedAdmin(app, recorder, resource=path.rstrip("/").rsplit("/", 1)[-1], path=path)
        audited[path] = app
    return audited


def _outbound_tls(settings: Settings):
    from ..tls import outbound_tls

    return outbound_tls(settings)
