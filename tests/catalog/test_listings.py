"""Listings: one per (connection, variant) and per (connection, external variant id)."""

from __future__ import annotations

import pytest

from storesync.catalog.listings import (
    ListingInput,
    listing_create,
    listing_set_status,
    listings_active_for_variants,
)
from storesync.channels.services import connection_create
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


@pytest.fixture
def shop(stock):
    ws, variants, _, _ = stock
    connection = connection_create(workspace_id=ws, platform="shopify", name="shop",
                                   credentials={}, webhook_secret="0123456789abcdef",
                                   actor=ACTOR)
    return ws, variants, connection


def _input(variant, connection, external="v-1", **extra):
    return ListingInput(variant_id=variant.id, connection_id=connection.id,
                        external_product_id="p-1", external_variant_id=external,
                        inventory_item_id=f"item-{external}", channel_location_id="loc",
                        **extra)


def test_a_variant_is_listed_once_per_connection(shop):
    ws, variants, connection = shop
    m, size_l = variants["KURTA-M"], variants["KURTA-L"]
    listing = listing_create(workspace_id=ws, data=_input(m, connection), actor=ACTOR)
    assert listing.status == "active" and listing.last_channel_quantity is None
    with pytest.raises(Conflict) as err:
        listing_create(workspace_id=ws, data=_input(m, connection, "v-2"), actor=ACTOR)
    assert err.value.field == "variant_id"
    with pytest.raises(Conflict) as err:
        listing_create(workspace_id=ws, data=_input(size_l, connection, "v-1"), actor=ACTOR)
    assert err.value.field == "external_variant_id"
    assert listings_active_for_variants(workspace_id=ws, variant_ids=[m.id]) == [listing]

    listing_set_status(workspace_id=ws, listing_id=listing.id, status="unlisted", actor=ACTOR)
    assert listings_active_for_variants(workspace_id=ws, variant_ids=[m.id]) == []


def test_listing_input_is_checked_field_by_field(shop, other_workspace):
    ws, variants, connection = shop
    m = variants["KURTA-M"]
    for bad, field in [(_input(m, connection, external=" "), "external_variant_id"),
                       (_input(m, connection, price_override_minor=-1), "price_override"),
                       (_input(m, connection, safety_buffer=-2), "safety_buffer"),
                       (_input(m, connection, status="hidden"), "status")]:
        with pytest.raises(ValidationError) as err:
            listing_create(workspace_id=ws, data=bad, actor=ACTOR)
        assert err.value.field == field
    # Another workspace can name neither this variant nor this connection.
    with pytest.raises(NotFound):
        listing_create(workspace_id=other_workspace.workspace.id,
                       data=_input(m, connection), actor=ACTOR)
