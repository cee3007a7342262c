"""Point 4: the connection page and the mapping of unmatched channel variants (UI and API),
and the first sync as a background job with its retry."""

from __future__ import annotations

import pytest

from storesync.catalog.models import Listing, Variant
from storesync.channels import initial
from storesync.core.models import Job, JobState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from storesync.security.models import AuditEvent
from tests.channels.sims.conftest import ACTOR, connect_shopify, hub_catalog, shopify_control
from tests.web.conftest import assert_no_inline_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unmatched_shop(workspace, shopify):
    """Three channel variants; the hub knows one SKU and has two others under other SKUs."""
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 3})
    skus = sorted(v.sku for v in shopify.shop.variants.values())
    hub_catalog(ws, {skus[0]: 2, "HUB-RED-M": 3, "HUB-RED-L": 4})
    connection = connect_shopify(shopify)
    initial.connection_initial_sync(workspace_id=ws, connection_id=connection.id, actor=ACTOR,
                                    orders=False)
    return ws, connection, skus


def test_unmatched_variants_are_mapped_from_the_connection_page(unmatched_shop, owner_client,
                                                                shopify):
    ws, connection, skus = unmatched_shop
    page = owner_client.get(f"/channels/{connection.id}/?q=HUB-RED")
    html = page.content.decode()
    assert page.status_code == 200
    assert_no_inline_code(html, f"/channels/{connection.id}/")
    assert skus[1] in html and skus[2] in html and initial.UNKNOWN_SKU in html
    assert "HUB-RED-M" in html and "HUB-RED-L" in html  # the SKU search found them
    with workspace_scope(ws):
        target = connection.unmatched_variants.get(sku=skus[1])

    refused = owner_client.post(f"/channels/{connection.id}/unmatched/{target.id}/map",
                                {"sku": "NO-SUCH-SKU"}, follow=True)
    assert "no hub variant has SKU" in refused.content.decode()

    mapped = owner_client.post(f"/channels/{connection.id}/unmatched/{target.id}/map",
                               {"sku": "HUB-RED-M"})
    assert mapped.status_code == 302
    with workspace_scope(ws):
        listing = Listing.objects.get(connection=connection, variant__sku="HUB-RED-M")
        assert not connection.unmatched_variants.filter(id=target.id).exists()
    assert listing.external_variant_id.endswith(
        str(shopify.shop.variant_by_sku(skus[1]).id))
    # Its first push put the hub's 3 on the channel variant.
    item = shopify.shop.variant_by_sku(skus[1]).inventory_item_id
    assert shopify.shop.levels[(item, shopify.shop.default_location.id)] == 3
    [linked] = AuditEvent.objects.filter(action="listing.linked")
    assert (linked.subject_id, linked.actor_type) == (str(listing.id), "user")
    assert (linked.detail["sku"], linked.detail["channel_sku"], linked.detail["how"]) == (
        "HUB-RED-M", skus[1], "mapped")


def test_the_api_lists_and_maps_unmatched_variants(unmatched_shop, owner_api, viewer_api):
    _, connection, skus = unmatched_shop
    listed = owner_api.get(f"/api/v1/connections/{connection.id}/unmatched")
    assert listed.status_code == 200
    rows = {row["sku"]: row for row in listed.json()}
    assert set(rows) == {skus[1], skus[2]}
    assert viewer_api.get(f"/api/v1/connections/{connection.id}/unmatched").status_code == 403

    bad = owner_api.post(f"/api/v1/connections/{connection.id}/unmatched/"
                         f"{rows[skus[2]]['id']}/map", {"sku": ""})
    assert bad.status_code == 400 and "sku" in bad.text
    done = owner_api.post(f"/api/v1/connections/{connection.id}/unmatched/"
                          f"{rows[skus[2]]['id']}/map", {"sku": "HUB-RED-L"})
    assert done.status_code == 201 and done.json()["sku"] == "HUB-RED-L"
    again = owner_api.post(f"/api/v1/connections/{connection.id}/unmatched/"
                           f"{rows[skus[2]]['id']}/map", {"sku": "HUB-RED-L"})
    assert again.status_code == 404


def test_first_sync_runs_as_a_job_and_a_failed_one_is_retried(workspace, shopify, owner_api,
                                                              owner_client):
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 2})
    hub_catalog(ws, dict.fromkeys((v.sku for v in shopify.shop.variants.values()), 1))
    connection = connect_shopify(shopify)
    token = shopify.config.access_token
    shopify.config.access_token = "revoked"  # the shop revoked the app's token

    started = owner_api.post(f"/api/v1/connections/{connection.id}/initial-sync",
                             {"days": 30})
    assert started.status_code == 202
    with workspace_scope(ws):
        job = Job.objects.get(id=started.json()["id"])
    assert job.state == JobState.FAILED and "refused" in job.last_error

    page = owner_client.get(f"/channels/{connection.id}/").content.decode()
    assert job.last_error in page and "Retry" in page

    shopify.config.access_token = token
    retried = owner_client.post(f"/channels/{connection.id}/jobs/{job.id}/retry")
    assert retried.status_code == 302
    with workspace_scope(ws):
        job.refresh_from_db()
        assert Listing.objects.filter(connection=connection).count() == 2
    assert job.state == JobState.SUCCEEDED and job.result["listed"] == 2
    assert owner_api.get(f"/api/v1/connections/{connection.id}/jobs").json()[0]["state"] \
        == JobState.SUCCEEDED


def test_an_unmatched_variant_is_created_in_the_hub_with_the_channels_price_and_stock(
        unmatched_shop, owner_client, owner_api, shopify):
    ws, connection, skus = unmatched_shop
    with workspace_scope(ws):
        first, second = (connection.unmatched_variants.get(sku=sku) for sku in skus[1:])
    channel = shopify.shop.variant_by_sku(skus[1])

    taken = owner_api.post(f"/api/v1/connections/{connection.id}/unmatched/{first.id}/create",
                           {"sku": "HUB-RED-M"})
    assert taken.status_code == 409 and "map it instead" in taken.text
    made = owner_client.post(f"/channels/{connection.id}/unmatched/{first.id}/map",
                             {"sku": skus[1], "action": "create"})
    assert made.status_code == 302
    with workspace_scope(ws):
        variant = Variant.objects.get(sku=skus[1])
        assert variant.price_minor == int(channel.price * 100)
        assert sum(Level.objects.filter(variant=variant).values_list("on_hand", flat=True)) \
            == 10  # the channel's quantity, received in the hub
        assert Listing.objects.filter(connection=connection, variant=variant).exists()
    listed = owner_api.post(f"/api/v1/connections/{connection.id}/unmatched/{second.id}/create",
                            {"sku": "NEW-SKU-2"})
    assert listed.status_code == 201 and listed.json()["sku"] == "NEW-SKU-2"
    assert owner_api.get(f"/api/v1/connections/{connection.id}/unmatched").json() == []
