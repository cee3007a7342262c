"""HTTP answers the sandbox does not produce (429 with Retry-After, 403, 404, 423), faked with
respx at the network boundary."""

from __future__ import annotations

import httpx
import pytest
import respx

from storesync.channels.connectors.base import AuthFailed, Rejected, Throttled
from storesync.channels.connectors.shopify import Connector
from storesync.channels.ratelimit import LocalThrottle

ENDPOINT = "https://acme.myshopify.com/admin/api/2026-04/graphql.json"


def _connector() -> Connector:
    return Connector(credentials={"shop": "acme.myshopify.com", "access_token": "shpat_x"},
                     throttle=LocalThrottle())


@respx.mock
def test_429_with_a_long_retry_after_is_surfaced_with_that_wait() -> None:
    route = respx.post(ENDPOINT).mock(return_value=httpx.Response(
        429, headers={"Retry-After": "7"}, json={"errors": "Exceeded 2 calls per second"}))
    with pytest.raises(Throttled) as caught:
        _connector().verify_credentials()
    assert caught.value.retry_after_s == 7.0 and caught.value.status == 429
    assert route.call_count == 1  # no pointless retry inside the call


@respx.mock
def test_429_with_a_short_retry_after_is_retried() -> None:
    shop = {"data": {"shop": {"name": "Acme", "myshopifyDomain": "acme.myshopify.com",
                              "currencyCode": "INR", "plan": {"publicDisplayName": "Basic"}},
                     "productsCount": {"count": 0}}}
    route = respx.post(ENDPOINT).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "0.1"}), httpx.Response(200, json=shop)])
    assert _connector().verify_credentials().name == "Acme"
    assert route.call_count == 2
    sent = route.calls[0].request
    assert sent.headers["X-Shopify-Access-Token"] == "shpat_x"


@pytest.mark.parametrize(("status", "error"), [(403, AuthFailed), (423, AuthFailed),
                                               (404, Rejected)])
@respx.mock
def test_client_errors_are_not_retried(status: int, error: type[Exception]) -> None:
    route = respx.post(ENDPOINT).mock(return_value=httpx.Response(status, json={}))
    with pytest.raises(error):
        _connector().verify_credentials()
    assert route.call_count == 1
