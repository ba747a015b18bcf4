"""Every store test runs on SQLite (a fresh file) and, when XDSNO_TEST_DATABASE_URL is set, on
PostgreSQL in a fresh schema of its own, dropped afterwards."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from registry.store import create_schema, open_engine

PG_URL = os.environ.get("XDSNO_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = open_engine(f"sqlite:///{tmp_path / 'db' / 'registry.sqlite3'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("XDSNO_TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = open_engine(PG_URL, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = open_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(engine):
    """An engine whose schema exists."""
    create_schema(engine)
    return engine
