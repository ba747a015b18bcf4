"""Creating a module's SQL tables at start when several server processes start together.

gunicorn workers build the app at the same moment: another process creating the same table
between the check and the CREATE TABLE is no error, and a write lock another one holds
(SQLite "database is locked": a deferred transaction's upgrade fails at once) is waited out.
"""
from __future__ import annotations

import time

from sqlalchemy import Engine, MetaData, inspect
from sqlalchemy.exc import DBAPIError


def create_missing_tables(engine: Engine, metadata: MetaData, *, attempts: int = 6) -> None:
    """Create every table of `metadata` that is missing; retried while another process races."""
    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except DBAPIError:
            present = set(inspect(engine).get_table_names())
            if all(table.name in present for table in metadata.sorted_tables):
                return
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)
