"""xdsno composition root: settings, the `xdsno` command and the WSGI app built from the actors.

Nothing imports this package; it imports everything else (DESIGN.md §2).
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("xdsno")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
