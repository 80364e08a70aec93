"""The one transaction helper of the SQLite store: ``BEGIN`` … ``COMMIT``, or
``ROLLBACK`` on any exception (cancellation included), on a connection opened in
autocommit mode (``isolation_level=None``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[None]:
    """Statements in the block commit together or not at all. ``immediate`` takes the
    write lock at ``BEGIN`` (a read-then-write cannot be overtaken by another writer)."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
