"""Fixtures: the Shopify sandbox on a free port (shared with the sandbox tests) and a
connector pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storesync.channels.connectors.shopify import Connector
from storesync.channels.ratelimit import LocalThrottle
from storesync.channels.sandbox.shopify.server import SandboxServer
from tests.channels.sandbox.shopify.conftest import api, receiver, sandbox

__all__ = ["api", "connect", "connector", "receiver", "sandbox"]


def connect(server: SandboxServer, *, token: str | None = None,
            http: httpx.Client | None = None) -> Connector:
    return Connector(credentials={"shop": server.url,
                                  "access_token": token or server.config.access_token,
                                  "client_secret": server.config.client_secret},
                     http=http, throttle=LocalThrottle())


@pytest.fixture
def connector(sandbox: SandboxServer) -> Iterator[Connector]:
    conn = connect(sandbox)
    yield conn
    conn.close()
