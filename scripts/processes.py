"""Stopping a child process this project started (a node, a fake community, a bare server)."""
from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace_seconds`; reaped either way."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
