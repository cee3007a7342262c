"""HTTP to one WooCommerce store's REST API v3, with the platform's errors made ours.

Authentication: the consumer key and secret as HTTP Basic auth, which WooCommerce accepts
over HTTPS (REST API v3 reference, "Authentication over HTTPS"). Over plain HTTP WooCommerce
wants OAuth 1.0a signatures instead; storesync never sends keys over plain HTTP to another
machine, so a ``http://`` store URL is refused unless it is the loopback sandbox (ADR 0013).

Errors (``WP_Error`` bodies ``{"code", "message", "data": {"status"}}``): 429 ->
``Throttled`` with ``Retry-After``; 401/403 -> ``AuthFailed``; a redirect and other 4xx ->
``Rejected``
(e.g. 413 ``woocommerce_rest_request_entity_too_large``); 5xx, timeouts, connection errors
and bodies that are not JSON -> retryable ``ChannelError``.

Pagination: ``page``/``per_page`` (at most 100), following the ``Link: <...>; rel="next"``
header, bounded by ``X-WP-TotalPages``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from storesync.channels.connectors.base import AuthFailed, ChannelError, Rejected, Throttled
from storesync.channels.ratelimit import Throttle

API_PATH = "/wp-json/wc/v3"
PER_PAGE = 100  # the REST API's maximum per_page
MAX_PAGES = 100_000  # a bound for a server whose Link headers never end
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Core WooCommerce sets no request limit; hosts often allow a few per second. A small bucket
# keeps a burst of jobs polite (``requests_per_s`` in the credentials tunes it for a store
# whose host allows more); a 429 still surfaces as Throttled.
BUCKET_CAPACITY = 10.0
BUCKET_RATE_PER_S = 5.0
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None
    total_pages: int | None


def _retry_after_s(value: str | None) -> float:
    """``Retry-After`` as seconds or an HTTP date (RFC 9110); 1 s when absent or unreadable."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return 1.0


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("message"):
        return f"{body.get('code', 'error')}: {body['message']}"
    return f"HTTP {response.status_code}"


class WooClient:
    """One store; ``request`` and ``pages`` raise only ``ChannelError`` subclasses."""

    def __init__(self, *, url: str, consumer_key: str, consumer_secret: str,
                 http: httpx.Client | None, throttle: Throttle,
                 requests_per_s: float = BUCKET_RATE_PER_S) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AuthFailed("the store URL must start with https://")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise AuthFailed("WooCommerce keys are only sent over HTTPS; use the store's "
                             "https:// address")
        if not consumer_key or not consumer_secret:
            raise AuthFailed("consumer_key and consumer_secret are required")
        self.base_url = url.rstrip("/")
        self._auth = httpx.BasicAuth(consumer_key, consumer_secret)
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=TIMEOUT)
        self._throttle = throttle
        self._bucket = f"woocommerce:{self.base_url}"
        self._rate = max(0.1, requests_per_s)

    def close(self) -> None:
        """Close the HTTP client if this object made it (a shared one is the caller's)."""
        if self._owns_http:
            self._http.close()

    def _send(self, method: str, url: str, *, params: dict[str, Any] | None = None,
              body: Any = None, auth: bool = True) -> httpx.Response:
        self._throttle.wait(self._bucket, 1, capacity=max(BUCKET_CAPACITY, self._rate * 2),
                            restore_rate=self._rate)
        try:
            response = self._http.request(method, url, params=params, json=body,
                                          auth=self._auth if auth else None, timeout=TIMEOUT)
        except httpx.TimeoutException:
            raise ChannelError(f"WooCommerce did not answer {method} {url} in time") from None
        except httpx.HTTPError as error:
            raise ChannelError(f"WooCommerce unreachable: {type(error).__name__}") from None
        status = response.status_code
        if status == 429:
            # Empty the shared bucket so the other workers of this store slow down too.
            self._throttle.update(self._bucket, available=0,
                                  capacity=max(BUCKET_CAPACITY, self._rate * 2),
                                  restore_rate=self._rate)
            raise Throttled(f"WooCommerce rate limit: {_message(response)}",
                            retry_after_s=_retry_after_s(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise AuthFailed(f"WooCommerce refused the keys: {_message(response)}",
                             status=status)
        if 300 <= status < 400:
            # Not followed: Basic auth must not travel to wherever a redirect points, and a
            # POST would turn into a GET. Usually www vs bare domain, or http vs https.
            raise Rejected(f"WooCommerce redirected {method} {urlsplit(url).path} to "
                           f"{response.headers.get('Location', '?')}: use that address as "
                           "the store URL", status=status)
        if 400 <= status < 500:
            raise Rejected(f"WooCommerce refused {method} {urlsplit(url).path}: "
                           f"{_message(response)}", status=status)
        if status >= 500:
            raise ChannelError(f"WooCommerce error {status}: {_message(response)}",
                               status=status)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            # A cut or HTML body behind a 200 (a proxy, a PHP notice): the call may or may
            # not have applied; retrying a set-to-value write is safe.
            raise ChannelError("WooCommerce answered with a body that is not JSON",
                               status=response.status_code) from None

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: Any = None) -> Any:
        """One authenticated call to ``/wp-json/wc/v3{path}``; the decoded JSON body."""
        return self._json(self._send(method, f"{self.base_url}{API_PATH}{path}",
                                     params=params, body=body))

    def site_index(self) -> dict[str, Any]:
        """``GET /wp-json/``: the site's name and address (public, no keys sent)."""
        data = self._json(self._send("GET", f"{self.base_url}/wp-json/", auth=False))
        return data if isinstance(data, dict) else {}

    def page(self, path: str, params: dict[str, Any]) -> tuple[Page, str | None]:
        """One page of a collection and the ``rel="next"`` URL, if any."""
        response = self._send("GET", f"{self.base_url}{API_PATH}{path}",
                              params={"per_page": PER_PAGE, **params})
        return self._page(response)

    def _page(self, response: httpx.Response) -> tuple[Page, str | None]:
        items = self._json(response)
        if not isinstance(items, list):
            raise ChannelError("WooCommerce answered a collection with a non-list body")
        total = response.headers.get("X-WP-Total")
        pages = response.headers.get("X-WP-TotalPages")
        match = _NEXT.search(response.headers.get("Link", ""))
        return (Page(items, int(total) if total and total.isdigit() else None,
                     int(pages) if pages and pages.isdigit() else None),
                match.group(1) if match else None)

    def _same_site(self, url: str) -> bool:
        here, there = urlsplit(self.base_url), urlsplit(url)
        return (here.scheme, here.netloc) == (there.scheme, there.netloc)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Page]:
        """Every page of a collection, following ``Link: rel="next"``; stops at
        ``X-WP-TotalPages`` even if a broken ``Link`` says otherwise. A next link to another
        scheme or host (a misconfigured site URL) is not followed, since the keys go with
        it: the next page is asked for by number instead."""
        query = dict(params or {})
        page, next_url = self.page(path, query)
        yield page
        number = 1
        while number < MAX_PAGES and (page.total_pages is None or number < page.total_pages):
            if next_url and self._same_site(next_url):
                page, next_url = self._page(self._send("GET", next_url))
            elif page.total_pages is not None:
                page, next_url = self.page(path, {**query, "page": number + 1})
            else:
                return
            number += 1
            yield page
