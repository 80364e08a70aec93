"""The PostgreSQL store: the record kinds of :mod:`dfr.store.tables` over a pool of
psycopg connections (:mod:`.database`), with PostgreSQL's types for times and JSON
(:mod:`.dialect`), its migrations (:mod:`.migrations`, numbered as SQLite's) and its URL
setting (:mod:`.url`)."""

from dfr.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
