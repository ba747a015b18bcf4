"""Schema creation, versioning and the engine settings."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from registry.store import SCHEMA_VERSION, create_schema, open_engine
from registry.store.schema import SchemaVersionError, metadata, schema_version


def test_create_schema_is_idempotent(engine):
    assert create_schema(engine) == SCHEMA_VERSION
    assert create_schema(engine) == SCHEMA_VERSION
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    with engine.connect() as conn:
        assert conn.execute(select(schema_version.c.id, schema_version.c.version)).all() == [
            (1, SCHEMA_VERSION)]


def test_every_index_is_created(engine):
    create_schema(engine)
    inspector = inspect(engine)
    for table in metadata.tables.values():
        created = {index["name"] for index in inspector.get_indexes(table.name)}
        assert {index.name for index in table.indexes} <= created


def test_a_newer_schema_is_refused(engine):
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaVersionError):
        create_schema(engine)


def test_sqlite_engine_creates_its_folder_and_sets_wal_foreign_keys_and_timeout(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'registry.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert (tmp_path / "a" / "b" / "registry.sqlite3").exists()
    finally:
        engine.dispose()


def test_in_memory_sqlite_works(tmp_path):
    engine = open_engine("sqlite://")
    assert create_schema(engine) == SCHEMA_VERSION
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from registry_object")).scalar() == 0
