"""Serving the WSGI app: waitress for one process, gunicorn for several (one per core) or TLS.

Waitress is pure Python and starts everywhere; gunicorn forks workers that each build the
app after the fork, so no database connection or socket is shared between processes.
Waitress has no TLS: a node with `tls_cert_file` (ATNA secure node, ITI-19) is served by
gunicorn also with one worker, with xdsno.tls's server context (TLS >= 1.2, client
certificates per `tls_client_auth`, revocation per `tls_crl_file`), the verified client
certificate in the environ (xdsno.client_certificate), and gthread workers that audit every
connection refused at the handshake (xdsno.tls_worker: a Security Alert, ITI TF-2 3.20).
"""
from __future__ import annotations

import logging

from .app import build_app
from .settings import Settings

log = logging.getLogger("xdsno.server")


def serve(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.workers > 1 or settings.tls_enabled:
        _serve_gunicorn(settings)
    else:
        _serve_waitress(settings)


def node_app(settings: Settings):
    """The node's WSGI app; with TLS, wrapped to expose the verified client certificate."""
    app = build_app(settings)
    if not settings.tls_enabled:
        return app
    from .client_certificate import ClientCertificateMiddleware

    return ClientCertificateMiddleware(app, require=settings.tls_client_auth != "none")


def _serve_waitress(settings: Settings) -> None:
    import waitress

    app = node_app(settings)
    log.info("xdsno serving %s on %s (waitress, %d threads)", ", ".join(settings.actors),
             settings.base_url, settings.threads)
    waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                   ident="xdsno", channel_timeout=300, max_request_body_size=1 << 40,
                   # a response beyond this much waits for the client (default 16 MiB): it
                   # bounds what a large ITI-43/39 retrieve costs per connection; outbuf_overflow
                   # above it keeps that buffer in memory (by default waitress spills every
                   # response over 1 MiB to a temporary file, each byte written and read back)
                   outbuf_high_watermark=2 * 1024 * 1024, outbuf_overflow=3 * 1024 * 1024,
                   # a request is read whole before the app runs (spilled to a temporary file
                   # past inbuf_overflow); 8 KiB per recv (the default) costs a loop turn each
                   recv_bytes=256 * 1024,
                   clear_untrusted_proxy_headers=True)


def _worker_class(settings: Settings):
    """gthread; on a TLS node the gthread worker that audits refused handshakes."""
    if not settings.tls_enabled:
        return "gthread"
    from .tls_worker import worker_class

    return worker_class(settings)


MAX_HEADER_FIELD_BYTES = 64 * 1024


def _serve_gunicorn(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("threads", settings.threads)
            self.cfg.set("worker_class", _worker_class(settings))
            self.cfg.set("timeout", 300)
            # a citizen's SAML assertion in an Authorization header (xdsno.citizen_auth) is
            # larger than gunicorn's default 8190-byte field limit; waitress allows 256 KiB
            self.cfg.set("limit_request_field_size", MAX_HEADER_FIELD_BYTES)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25.1 opens one control socket per user ($HOME/.gunicorn): nodes
                # running side by side (a federation, tests) would take it from each other
                self.cfg.set("control_socket_disable", True)
            if settings.tls_enabled:
                from .tls import gunicorn_options

                for name, value in gunicorn_options(settings).items():
                    self.cfg.set(name, value)

        def load(self):
            return node_app(settings)

    if settings.tls_enabled:
        from .tls import server_context

        server_context(settings)  # a certificate, key or CA that cannot be loaded stops the start here
    log.info("xdsno serving %s on %s (gunicorn, %d workers%s)", ", ".join(settings.actors),
             settings.base_url, settings.workers,
             f", TLS, client certificates {settings.tls_client_auth}" if settings.tls_enabled else "")
    _Gunicorn().run()
