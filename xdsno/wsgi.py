"""WSGI entry point for external servers: `gunicorn xdsno.wsgi:application`.

Settings come from XDSNO_CONFIG and XDSNO_* environment variables (xdsno.settings). A server
terminating TLS itself with gunicorn's own options gets the client certificate in the environ
when XDSNO_TLS_CERT_FILE is set too (xdsno.server.node_app).
"""
from .server import node_app
from .settings import load_settings

application = node_app(load_settings())
