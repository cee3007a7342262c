"""One GraphQL Admin API call, with Shopify's rate limit and failure modes mapped to
``base.ChannelError`` types.

- Endpoint ``POST https://<shop>.myshopify.com/admin/api/<version>/graphql.json`` with the
  ``X-Shopify-Access-Token`` header ("About the GraphQL Admin API", "API versioning").
- Calculated query cost: every answer carries ``extensions.cost.throttleStatus
  { maximumAvailable currentlyAvailable restoreRate }``; it is fed to the shared ``Throttle``
  so the next call waits for its points instead of being refused ("GraphQL Admin API rate
  limits"). A refused call (``errors[].extensions.code == "THROTTLED"``, or HTTP 429) is
  retried after the wait the bucket implies when that wait is short, else surfaced as
  ``Throttled(retry_after_s=...)``.
- 5xx, timeouts and unreadable bodies: retried briefly, then a retryable ``ChannelError``.
  401/403: ``AuthFailed``; other 4xx and query errors: ``Rejected``.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from storesync.channels.connectors.base import AuthFailed, ChannelError, Rejected, Throttled
from storesync.channels.connectors.shopify.queries import API_VERSION, ESTIMATES
from storesync.channels.ratelimit import Throttle

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_ATTEMPTS = 3
BRIEF_WAIT_S = 2.0  # longer waits go back to the caller as ``Throttled``
# Until the shop answers once: the documented Standard plan (100 points/s, bucket 2,000).
DEFAULT_CAPACITY, DEFAULT_RESTORE_RATE = 2000.0, 100.0
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$")


def base_url(shop: str) -> str:
    """``acme.myshopify.com`` -> ``https://acme.myshopify.com``; a full ``http(s)://`` URL (the
    sandbox) is kept as given."""
    shop = shop.strip().rstrip("/")
    if shop.startswith(("http://", "https://")):
        parts = urlsplit(shop)
        if not parts.netloc:
            raise Rejected(f"credentials: 'shop' is not a URL: {shop!r}")
        return f"{parts.scheme}://{parts.netloc}"
    if not SHOP_DOMAIN.match(shop.lower()):
        raise Rejected(f"credentials: 'shop' must be a domain like acme.myshopify.com, "
                       f"not {shop!r}")
    return f"https://{shop.lower()}"


class GraphQLClient:
    """Calls one shop's Admin API; cheap to build, opens no connection until used."""

    def __init__(self, *, shop: str, access_token: str, http: httpx.Client | None,
                 throttle: Throttle) -> None:
        self.base = base_url(shop)
        self.endpoint = f"{self.base}/admin/api/{API_VERSION}/graphql.json"
        self.bucket_key = f"shopify:{urlsplit(self.base).netloc}"
        self._token = access_token
        self._own_http = http is None
        self.http = http or httpx.Client(timeout=TIMEOUT)
        self.throttle = throttle
        self.capacity, self.restore_rate = DEFAULT_CAPACITY, DEFAULT_RESTORE_RATE
        self._costs: dict[str, float] = {}
        self._available = 0.0

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def execute(self, operation: str, query: str,
                variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run ``operation`` (the name in ``query``) and return its ``data``."""
        failure: ChannelError = ChannelError("no attempt made")
        for attempt in range(MAX_ATTEMPTS):
            last = attempt == MAX_ATTEMPTS - 1
            cost = self._costs.get(operation, float(ESTIMATES.get(operation, 100)))
            self.throttle.wait(self.bucket_key, min(cost, self.capacity),
                               capacity=self.capacity, restore_rate=self.restore_rate)
            try:
                response = self.http.post(
                    self.endpoint, json={"query": query, "variables": variables or {},
                                         "operationName": operation},
                    headers={"X-Shopify-Access-Token": self._token,
                             "Content-Type": "application/json", "Accept": "application/json"})
            except httpx.TimeoutException:
                failure = ChannelError(f"Shopify did not answer {operation} in time")
            except httpx.HTTPError as exc:
                failure = ChannelError(f"could not reach Shopify: {type(exc).__name__}")
            else:
                outcome = self._outcome(operation, response, last=last)
                if isinstance(outcome, dict):
                    return outcome
                failure = outcome
            if last:
                break
            wait = getattr(failure, "retry_after_s", 0.25 * 2 ** attempt)
            time.sleep(wait)
        raise failure

    def _outcome(self, operation: str, response: httpx.Response, *,
                 last: bool) -> dict[str, Any] | ChannelError:
        """The data, or the failure to retry (returned) or to surface now (raised)."""
        status = response.status_code
        if status in (401, 403):
            raise AuthFailed(f"Shopify refused the access token (HTTP {status})", status=status)
        if status == 429:
            retry_after = _seconds(response.headers.get("Retry-After"), default=1.0)
            return self._throttled(f"Shopify throttled {operation} (HTTP 429)", retry_after,
                                   last=last, status=429)
        if status >= 500:
            return ChannelError(f"Shopify answered HTTP {status} to {operation}", status=status)
        if status in (402, 423):
            raise AuthFailed(f"the shop is unavailable (HTTP {status}: frozen or locked)",
                             status=status)
        if status >= 400:
            raise Rejected(f"Shopify refused {operation} (HTTP {status})", status=status)
        try:
            body = response.json()
        except ValueError:
            return ChannelError(f"Shopify sent an unreadable answer to {operation}", status=status)
        if not isinstance(body, dict):
            return ChannelError(f"Shopify sent an unexpected answer to {operation}")
        requested = self._observe(operation, body)
        errors = body.get("errors")
        if errors:
            return self._errors(operation, errors, requested, last=last)
        data = body.get("data")
        if not isinstance(data, dict):
            return ChannelError(f"Shopify sent no data for {operation}")
        return data

    def _observe(self, operation: str, body: dict[str, Any]) -> float | None:
        """Feed ``extensions.cost`` to the throttle; the requested cost of this call."""
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.capacity = float(status["maximumAvailable"])
            self.restore_rate = float(status["restoreRate"])
            available = float(status["currentlyAvailable"])
        except (KeyError, TypeError, ValueError):
            return None
        self._available = available
        self.throttle.update(self.bucket_key, available=available, capacity=self.capacity,
                             restore_rate=self.restore_rate)
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[operation] = float(requested)
            return float(requested)
        return None

    def _errors(self, operation: str, errors: Any, requested: float | None, *,
                last: bool) -> ChannelError:
        items: list[Any] = errors if isinstance(errors, list) else [{"message": str(errors)}]
        codes = {str((e.get("extensions") or {}).get("code", "")) for e in items
                 if isinstance(e, dict)}
        message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                            for e in items)
        if "THROTTLED" in codes:
            needed = (requested or self._costs.get(operation, 1.0)) - self._available
            wait = max(needed, 1.0) / max(self.restore_rate, 1.0)
            return self._throttled(f"Shopify throttled {operation}", wait, last=last)
        if "ACCESS_DENIED" in codes:
            raise AuthFailed(f"Shopify denied {operation}: {message}")
        if "INTERNAL_SERVER_ERROR" in codes:
            return ChannelError(f"Shopify failed {operation}: {message}")
        raise Rejected(f"Shopify rejected {operation}: {message}")

    def _throttled(self, message: str, wait_s: float, *, last: bool,
                   status: int | None = None) -> ChannelError:
        failure = Throttled(message, retry_after_s=round(wait_s, 3), status=status)
        if last or wait_s > BRIEF_WAIT_S:
            raise failure
        return failure

    def download(self, url: str) -> httpx.Response:
        """GET a bulk operation's result file (a signed URL: no access token is sent)."""
        try:
            response = self.http.get(url, timeout=httpx.Timeout(120.0, connect=5.0))
        except httpx.HTTPError as exc:
            raise ChannelError(f"could not download the bulk result: {type(exc).__name__}") \
                from None
        if response.status_code != 200:
            raise ChannelError(f"bulk result download failed (HTTP {response.status_code})",
                               status=response.status_code)
        return response


def _seconds(value: str | None, *, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default
