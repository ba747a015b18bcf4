"""Schema creation, versioning and the engine settings."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from registry.store import SCHEMA_VERSION, create_schema, open_engine
from registry.store.schema import SchemaVersionError, metadata, schema_version
from tests.databases import database_url  # noqa: F401  (SQLite, and PostgreSQL when configured)


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


def _create_schema_in_a_process(url: str, barrier, results) -> None:
    try:
        engine = open_engine(url)
        barrier.wait(30)
        results.put(create_schema(engine))
        engine.dispose()
    except Exception as exc:  # reported to the test, not lost in the child
        results.put(repr(exc))


def test_workers_starting_together_all_get_the_schema(database_url):  # noqa: F811
    """gunicorn workers create the schema at the same moment on a fresh database (SQLite: a
    deferred transaction's lock upgrade fails at once with 'database is locked')."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_create_schema_in_a_process, args=(database_url, barrier, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [results.get(timeout=5) for _ in workers] == [SCHEMA_VERSION] * 4
