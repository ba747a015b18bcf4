"""Real `xdsno serve` nodes (registry + repository) for the repository's integration tests, on
each storage combination: blobs in a local folder or an S3 bucket (XDSNO_TEST_S3_ENDPOINT),
metadata and index in SQLite or PostgreSQL (XDSNO_TEST_DATABASE_URL). Combinations whose
server is not configured are skipped."""
from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.blobstores import new_bucket_name, remove_bucket, s3_settings
from tests.databases import fresh_database_url
from tests.server import REPO_ROOT, RunningServer, running_server

from .support import REPOSITORY_ID, SAMPLE_DOMAIN

#: (blob store, database)
BACKENDS = (("filesystem", "sqlite"), ("s3", "sqlite"), ("filesystem", "postgresql"), ("s3", "postgresql"))
BACKEND_IDS = [f"{blobs}-{database}" for blobs, database in BACKENDS]
NODE_ARGS = ("--profile", "ihe", "--patient-domain", SAMPLE_DOMAIN, "--repository-unique-id", REPOSITORY_ID,
             "--actor", "registry", "--actor", "repository")


@dataclass
class Node:
    server: RunningServer
    blob_kind: str
    s3_store: object | None = None

    @property
    def repository_url(self) -> str:
        return self.server.url("/repository")

    @property
    def registry_url(self) -> str:
        return self.server.url("/registry")

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def blob_names(self) -> set[str]:
        """Every object in the blob store (finished blobs and unfinished parts alike)."""
        if self.s3_store is not None:
            client, bucket = self.s3_store.client, self.s3_store.bucket
            return {obj.object_name for obj in client.list_objects(bucket, recursive=True)}
        folder = self.server.data_dir / "blobs"
        return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def _s3_env(settings: dict, bucket: str) -> dict[str, str]:
    return {
        "XDSNO_BLOB_STORE": "s3", "XDSNO_S3_ENDPOINT": settings["endpoint"], "XDSNO_S3_BUCKET": bucket,
        "XDSNO_S3_SECURE": "true" if settings["secure"] else "false", "XDSNO_S3_REGION": settings["region"],
        "XDSNO_S3_ACCESS_KEY": settings["access_key"], "XDSNO_S3_SECRET_KEY": settings["secret_key"],
    }


@contextlib.contextmanager
def repository_node(data_dir: Path, blob_kind: str, database_kind: str, *args: str) -> Iterator[Node]:
    """A node serving registry and repository on the given storage; skips what is not configured."""
    env: dict[str, str] = {}
    node_args = [*NODE_ARGS, *args]
    s3_store = None
    with contextlib.ExitStack() as stack:
        if database_kind == "postgresql":
            node_args += ["--database-url", stack.enter_context(fresh_database_url("postgresql"))]
        if blob_kind == "s3":
            settings = s3_settings()
            if settings is None:
                pytest.skip("XDSNO_TEST_S3_ENDPOINT is not set")
            from repository.store.s3 import S3BlobStore

            s3_store = S3BlobStore(bucket=new_bucket_name(), **settings)
            stack.callback(remove_bucket, s3_store)
            env.update(_s3_env(settings, s3_store.bucket))
        server = stack.enter_context(running_server(data_dir, *node_args, env=env, timeout=60))
        yield Node(server, blob_kind, s3_store)


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`xdsno ARGS` in a child process; its peak RSS (KiB) is printed last on stderr as MAXRSS."""
    code = ("import resource, sys\nfrom xdsno.cli import main\ncode = main(sys.argv[1:])\n"
            "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, env=_child_env())


def _child_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def max_rss_kib(stderr: str) -> int:
    return int(next(line.split()[1] for line in stderr.splitlines() if line.startswith("MAXRSS")))


def file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        while data := handle.read(1 << 20):
            digest.update(data)
    return digest.hexdigest()


def status_kib(pid: int, field: str) -> int:
    """VmHWM / VmRSS of a process, in KiB (/proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
