"""Starting the real `xdsno serve` process on a free loopback port, for integration tests.

`tls`: the node serves HTTPS (its TLS settings among `args` or `env`); the context is the test
client's (CA and client certificate) for waiting on /health."""
from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from scripts.processes import stop_process

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    data_dir: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base_url + path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(data_dir: Path, *args: str, env: dict[str, str] | None = None,
                   timeout: float = 90.0, tls: ssl.SSLContext | None = None,
                   port: int = 0) -> Iterator[RunningServer]:
    """`xdsno serve` in a child process; yields once /health answers, stops it afterwards.
    `port`: one chosen beforehand (nodes naming each other), else a free one."""
    port = port or free_port()
    command = [sys.executable, "-m", "xdsno.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(data_dir), *args]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + child_env.get("PYTHONPATH", "")
    log = open(data_dir.parent / f"server-{port}.log", "wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT)
    server = RunningServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}", data_dir, process)
    try:
        _wait_until_healthy(server, timeout, log.name, tls or True)
        yield server
    finally:
        stop_process(process)
        log.close()


def _wait_until_healthy(server: RunningServer, timeout: float, log_name: str,
                        verify: ssl.SSLContext | bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"xdsno serve exited with {server.process.returncode}: "
                               + Path(log_name).read_text(errors="replace"))
        try:
            if httpx.get(server.url("/health"), timeout=1.0, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("xdsno serve did not answer /health in time: " + Path(log_name).read_text(errors="replace"))
