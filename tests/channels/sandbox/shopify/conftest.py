"""Fixtures: a Shopify sandbox on a free port, an API client for it, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from tests.channels.sandbox.shopify.receiver import Receiver


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(Config(webhook_retry_base_s=0.05)).start()
    yield server
    server.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.close()


class Api:
    """Raw GraphQL calls and control calls against the sandbox."""

    def __init__(self, server: SandboxServer, token: str | None = None) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self.token = token or server.config.access_token

    def graphql(self, query: str, **variables: Any) -> httpx.Response:
        return self.http.post("/admin/api/2026-04/graphql.json",
                              json={"query": query, "variables": variables},
                              headers={"X-Shopify-Access-Token": self.token})

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.http.close()
