"""Platform name -> connector class. The one place that knows which packages exist."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import httpx

from storesync.channels.connectors.base import Connector
from storesync.channels.ratelimit import LocalThrottle, RedisThrottle, Throttle

# platform -> module holding a ``Connector`` class (``<module>.Connector``)
MODULES = {
    "shopify": "storesync.channels.connectors.shopify",
    "woocommerce": "storesync.channels.connectors.woocommerce",
}

_default_throttle: Throttle | None = None
_shared_http: httpx.Client | None = None
_shared_http_lock = threading.Lock()


def default_throttle() -> Throttle:
    """The buckets every connector shares: in Redis when configured (all workers, all
    machines), else in this process."""
    global _default_throttle
    if _default_throttle is None:
        from django.conf import settings

        url = settings.CONFIG.redis_url
        _default_throttle = RedisThrottle(url) if url else LocalThrottle()
    return _default_throttle


def shared_http() -> httpx.Client:
    """One connection pool for every connector of this process. Building an ``httpx.Client``
    loads a TLS context (tens of milliseconds), more than verifying a webhook or pushing a
    batch costs, and the engine builds a connector per webhook and per drain."""
    global _shared_http
    with _shared_http_lock:
        if _shared_http is None:
            _shared_http = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        return _shared_http


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
    tests; ``shared_http()`` when None) and ``throttle``."""
    cls = connector_class(platform)
    return cls(credentials=credentials, http=http or shared_http(),  # type: ignore[call-arg]
               throttle=throttle or default_throttle())
