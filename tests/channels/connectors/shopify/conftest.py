"""Fixtures: the Shopify sandbox on a free port and a connector pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storesync.channels.connectors.shopify import Connector
from storesync.channels.ratelimit import LocalThrottle
from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from tests.channels.sandbox.shopify.conftest import Api
from tests.channels.sandbox.shopify.receiver import Receiver


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(Config(webhook_retry_base_s=0.05)).start()
    yield server
    server.close()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.http.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.close()


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
