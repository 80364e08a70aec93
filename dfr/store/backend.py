"""Which store the settings choose: PostgreSQL where ``DFR_DATABASE_URL`` names a
database, else the embedded SQLite file ``DATA_DIR/dfr.db``. The service and the
``dfr user`` and ``dfr key`` commands all open their store here, so they share one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dfr.config import Settings
from dfr.store.postgres import PostgresStore
from dfr.store.postgres.url import parse_database_url
from dfr.store.sqlite import SqliteStore


def store_for(settings: Settings) -> SqliteStore | PostgresStore:
    """The store the settings name, not yet open; a URL that cannot be right is a
    ConfigError now, a server that cannot be reached one at ``open()``."""
    if settings.database_url is None:
        return SqliteStore(settings.db_path)
    return PostgresStore(parse_database_url(settings.database_url.get_secret_value()))


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[SqliteStore | PostgresStore]:
    """The store the settings name, open for the block."""
    async with store_for(settings) as store:
        yield store


async def check_store(settings: Settings) -> None:
    """Open the store once and close it: a server that cannot be reached, a database
    refused or a file that cannot be opened is a ConfigError before anything starts (under
    uvicorn's lifespan it would be a traceback)."""
    async with open_store(settings):
        pass
