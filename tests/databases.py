"""Fresh, empty registry databases for tests: a new SQLite file, or a new PostgreSQL database
on the server of `XDSNO_TEST_DATABASE_URL`, dropped afterwards.

    with fresh_database_url("postgresql") as url:      # skips when no server is configured
        engine = open_engine(url)

    def test_something(database_url): ...              # runs once per kind (fixture below)

A database of its own (not a schema) is what a real deployment gets, so tests that start
`xdsno serve --database-url URL` in another process see exactly what they would in production.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENV = "XDSNO_TEST_DATABASE_URL"
KINDS = ("sqlite", "postgresql")


def postgres_server_url() -> str:
    """The configured PostgreSQL URL, or '' when PostgreSQL tests are not wanted."""
    return os.environ.get(ENV, "")


@contextlib.contextmanager
def fresh_database_url(kind: str, directory: Path | None = None) -> Iterator[str]:
    """A URL of a new, empty database of `kind` ("sqlite" or "postgresql"); removed on exit.

    SQLite: a file in `directory` (a new temporary folder when None). PostgreSQL: a uniquely
    named database on the server of XDSNO_TEST_DATABASE_URL; the test is skipped when that
    variable is not set.
    """
    if kind == "sqlite":
        with _sqlite_url(directory) as url:
            yield url
    elif kind == "postgresql":
        server = postgres_server_url()
        if not server:
            pytest.skip(f"{ENV} is not set")
        with _postgres_url(server) as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}; known: {', '.join(KINDS)}")


@contextlib.contextmanager
def _sqlite_url(directory: Path | None) -> Iterator[str]:
    owned = directory is None
    folder = Path(tempfile.mkdtemp(prefix="xdsno-db-")) if owned else directory
    try:
        yield f"sqlite:///{folder / f'registry-{uuid.uuid4().hex[:8]}.sqlite3'}"
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _postgres_url(server: str) -> Iterator[str]:
    name = f"xdsno_t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                # a server process or a leaked pool may still hold connections
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture(params=KINDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh database URL, once per kind; PostgreSQL is skipped without XDSNO_TEST_DATABASE_URL."""
    with fresh_database_url(request.param, tmp_path if request.param == "sqlite" else None) as url:
        yield url
