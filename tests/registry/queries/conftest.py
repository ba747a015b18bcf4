"""Every stored-query test runs on a fresh SQLite file and, when XDSNO_TEST_DATABASE_URL is set,
on a fresh PostgreSQL database (tests/databases.py)."""
from __future__ import annotations

import pytest

from registry.store import create_schema, open_engine
from tests.databases import database_url  # noqa: F401  (the fixture, once per database kind)

from .support import Registry


@pytest.fixture
def reg(database_url):  # noqa: F811
    engine = open_engine(database_url, pool_size=2)
    create_schema(engine)
    try:
        yield Registry(engine)
    finally:
        engine.dispose()
