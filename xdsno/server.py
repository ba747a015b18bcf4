"""Serving the WSGI app: waitress for one process, gunicorn for several (one per core).

Waitress is pure Python and starts everywhere; gunicorn forks workers that each build the
app after the fork, so no database connection or socket is shared between processes.
"""
from __future__ import annotations

import logging

from .app import build_app
from .settings import Settings

log = logging.getLogger("xdsno.server")


def serve(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.workers > 1:
        _serve_gunicorn(settings)
    else:
        _serve_waitress(settings)


def _serve_waitress(settings: Settings) -> None:
    import waitress

    app = build_app(settings)
    log.info("xdsno serving %s on %s (waitress, %d threads)", ", ".join(settings.actors),
             settings.base_url, settings.threads)
    waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                   ident="xdsno", channel_timeout=300, max_request_body_size=1 << 40,
                   # waitress keeps up to this much of a response in memory (default 16 MiB);
                   # smaller bounds what a large ITI-43/39 retrieve costs per connection
                   outbuf_high_watermark=4 * 1024 * 1024,
                   clear_untrusted_proxy_headers=True)


def _serve_gunicorn(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("threads", settings.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 300)

        def load(self):
            return build_app(settings)

    log.info("xdsno serving %s on %s (gunicorn, %d workers)", ", ".join(settings.actors),
             settings.base_url, settings.workers)
    _Gunicorn().run()
