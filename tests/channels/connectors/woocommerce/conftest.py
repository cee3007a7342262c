"""The WooCommerce connector against the running simulator (fixtures from the sandbox's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storesync.channels.connectors.registry import build_connector
from storesync.channels.connectors.woocommerce import Connector
from storesync.channels.ratelimit import LocalThrottle
from storesync.channels.sandbox.woocommerce.server import Running
from tests.channels.sandbox.woocommerce.conftest import (  # fixtures, imported by name
    KEY,
    SECRET,
    control,
    receiver,
    woo,
)

__all__ = ["control", "receiver", "woo"]
WEBHOOK_SECRET = "whsec-woo-0123456789"


def connect(woo: Running, **overrides: str) -> Connector:
    credentials = {"url": woo.url, "consumer_key": KEY, "consumer_secret": SECRET,
                   "webhook_secret": WEBHOOK_SECRET, "requests_per_s": "200", **overrides}
    built = build_connector("woocommerce", credentials=credentials, throttle=LocalThrottle())
    assert isinstance(built, Connector)
    return built


@pytest.fixture
def connector(woo: Running) -> Iterator[Connector]:
    built = connect(woo)
    yield built
    built.close()
