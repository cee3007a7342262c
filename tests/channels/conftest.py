"""Fixtures of the channel engine tests: a recording test platform, a connection to it, and
listings of the root ``stock`` fixture's two variants on that connection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from storesync.catalog.listings import ListingInput, listing_create
from storesync.catalog.models import Listing
from storesync.channels.connectors import registry
from storesync.channels.models import Connection
from storesync.channels.services import connection_create
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor
from tests.channels import fake_platform
from tests.web.conftest import member_client, owner_client  # noqa: F401  (fixtures by name)

ACTOR = Actor.system("test")
SECRET = "whsec-test-0123456789abcdef"
CHANNEL_LOCATION = "loc-1"


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_platform.PlatformState]:
    monkeypatch.setitem(registry.MODULES, fake_platform.PLATFORM, "tests.channels.fake_platform")
    state = fake_platform.PlatformState(shop="test-shop.example")
    fake_platform.SHOPS[state.shop] = state
    yield state
    fake_platform.SHOPS.pop(state.shop, None)


@dataclass
class Channel:
    workspace_id: Any
    connection: Connection
    platform: fake_platform.PlatformState
    listings: dict[str, Listing]  # by SKU
    variants: dict[str, Any]
    main: Any  # hub locations of the root ``stock`` fixture
    store: Any


@pytest.fixture
def channel(stock, platform) -> Channel:
    ws, variants, main, store = stock
    connection = connection_create(
        workspace_id=ws, platform=fake_platform.PLATFORM, name="test shop",
        credentials={"shop": platform.shop, "access_token": platform.token},
        webhook_secret=SECRET, actor=ACTOR)
    listings = {}
    for n, (sku, variant) in enumerate(sorted(variants.items()), start=1):
        listings[sku] = listing_create(workspace_id=ws, actor=ACTOR, data=ListingInput(
            variant_id=variant.id, connection_id=connection.id, external_product_id="p-1",
            external_variant_id=f"v-{n}", inventory_item_id=f"item-{n}",
            channel_location_id=CHANNEL_LOCATION))
        platform.levels[(f"item-{n}", CHANNEL_LOCATION)] = 0
    return Channel(ws, connection, platform, listings, variants, main, store)


def reload(channel: Channel, sku: str) -> Listing:
    with workspace_scope(channel.workspace_id):
        return Listing.objects.get(id=channel.listings[sku].id)
