"""The record kinds, one module per group of tables, each a part of a store written once
over :class:`dfr.store.database.Database`: the SQLite store and the PostgreSQL store are
these same parts on their own database."""
