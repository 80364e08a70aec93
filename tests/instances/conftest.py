"""The instances' tests use the bus tests' real nats-server."""

from tests.bus.conftest import nats_server

__all__ = ["nats_server"]
