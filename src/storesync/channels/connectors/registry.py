"""Platform name -> connector class. The one place that knows which packages exist."""

from __future__ import annotations

import importlib
from typing import Any

import httpx

from storesync.channels.connectors.base import Connector
from storesync.channels.ratelimit import LocalThrottle, Throttle

# platform -> module holding a ``Connector`` class (``<module>.Connector``)
MODULES = {
    "shopify": "storesync.channels.connectors.shopify",
    "woocommerce": "storesync.channels.connectors.woocommerce",
}

_default_throttle = LocalThrottle()


def connector_class(platform: str) -> type[Connector]:
    try:
        module = importlib.import_module(MODULES[platform])
    except KeyError:
        raise LookupError(f"no connector for platform {platform!r} yet") from None
    cls: type[Connector] = module.Connector
    return cls


def build_connector(platform: str, *, credentials: dict[str, Any],
                    http: httpx.Client | None = None,
                    throttle: Throttle | None = None) -> Connector:
    """A connector for ``platform``. Every connector class takes exactly these keywords:
    ``credentials`` (the connection's decrypted credentials), ``http`` (an httpx client, for
    tests and shared pools; the connector makes its own when None) and ``throttle``."""
    cls = connector_class(platform)
    return cls(credentials=credentials, http=http,  # type: ignore[call-arg]
               throttle=throttle or _default_throttle)
