"""Fixtures for every test directory: a real PostgreSQL per test process, and the store
backends the contract tests run on."""

from tests.postgres_server import postgres_server, postgres_url
from tests.store_backends import store_backend

__all__ = ["postgres_server", "postgres_url", "store_backend"]
