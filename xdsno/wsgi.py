"""WSGI entry point for external servers: `gunicorn xdsno.wsgi:application`.

Settings come from XDSNO_CONFIG and XDSNO_* environment variables (xdsno.settings).
"""
from .app import build_app
from .settings import load_settings

application = build_app(load_settings())
