"""Connecting a shop from the command line, and the connections' health over the API."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from storesync.channels.connectors import registry
from storesync.channels.models import Connection
from storesync.channels.services import connection_credentials
from storesync.core.tenancy import workspace_scope
from storesync.security.models import AuditEvent
from tests.channels import fake_platform

TOKEN = "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"
SECRET = "whsec-cli-0123456789abcdef"


def _connections(ws):
    with workspace_scope(ws):
        return list(Connection.objects.order_by("name"))


def test_connection_add_shopify_without_verifying_prints_the_id_last(workspace, capsys):
    call_command("connection", "add", "shopify", "--workspace", "acme", "--name", "Main shop",
                 "--shop", "acme-test.myshopify.com", "--access-token", TOKEN,
                 "--webhook-secret", SECRET, "--no-verify")
    out = capsys.readouterr().out
    [connection] = _connections(workspace.workspace.id)
    assert out.strip().splitlines()[-1] == str(connection.id)
    assert TOKEN not in out and SECRET not in out
    assert connection.platform == "shopify" and connection.name == "Main shop"
    assert connection_credentials(connection) == {"shop": "acme-test.myshopify.com",
                                                  "access_token": TOKEN}

    call_command("connection", "add", "woocommerce", "--workspace", "acme", "--name", "Woo",
                 "--url", "https://woo.example.com", "--consumer-key", "ck_test",
                 "--consumer-secret", "cs_test", "--webhook-secret", SECRET, "--no-verify")
    capsys.readouterr()
    call_command("connection", "list", "--workspace", "acme")
    listing = capsys.readouterr().out
    assert "Main shop" in listing and "Woo" in listing and "last sync never" in listing
    assert "cs_test" not in listing and TOKEN not in listing


def test_connection_add_verifies_the_credentials_and_stores_nothing_when_refused(
        workspace, monkeypatch, capsys):
    monkeypatch.setitem(registry.MODULES, "shopify", "tests.channels.fake_platform")
    state = fake_platform.PlatformState(shop="acme-test.myshopify.com", token=TOKEN)
    monkeypatch.setitem(fake_platform.SHOPS, state.shop, state)
    args = ["connection", "add", "shopify", "--workspace", "acme", "--name", "Main shop",
            "--shop", state.shop, "--webhook-secret", SECRET]
    with pytest.raises(CommandError, match="webhook_secret"):
        call_command(*args[:-1], "short", "--access-token", TOKEN)
    assert state.calls == []  # bad input never reaches the platform
    with pytest.raises(CommandError, match="refused the credentials"):
        call_command(*args, "--access-token", "shpat_wrong")
    assert _connections(workspace.workspace.id) == []

    call_command(*args, "--access-token", TOKEN)
    out = capsys.readouterr().out
    [connection] = _connections(workspace.workspace.id)
    address = f"{settings.CONFIG.base_url}/webhooks/shopify/{connection.id}"
    assert state.calls == [("verify_credentials", None), ("verify_credentials", None),
                           ("ensure_subscriptions", address)]
    assert "webhook subscriptions: 2" in out and out.strip().splitlines()[-1] == str(connection.id)

    call_command("connection", "subscribe", "--workspace", "acme", str(connection.id))
    assert f"order.created\tactive\t{address}" in capsys.readouterr().out


def test_connection_add_bad_input_is_one_clear_error(workspace):
    with pytest.raises(CommandError, match="webhook_secret"):
        call_command("connection", "add", "shopify", "--workspace", "acme", "--name", "x",
                     "--shop", "a.myshopify.com", "--access-token", TOKEN,
                     "--webhook-secret", "short", "--no-verify")
    with pytest.raises(CommandError, match="no workspace"):
        call_command("connection", "list", "--workspace", "nope")
    assert _connections(workspace.workspace.id) == []


def test_connections_api_shows_health_and_keeps_workspaces_apart(channel, owner_api, other_api,
                                                                 viewer_api):
    listed = owner_api.get("/api/v1/connections")
    assert listed.status_code == 200
    [health] = listed.json()
    assert health["id"] == str(channel.connection.id) and health["pending"] == 0
    assert health["last_synced_at"] is None and health["throttled_until"] is None
    assert "credentials" not in health and "webhook_secret" not in health
    path = f"/api/v1/connections/{channel.connection.id}"
    assert owner_api.get(path).json()["name"] == "test shop"
    assert other_api.get(path).status_code == 404
    assert other_api.get("/api/v1/connections").json() == []
    assert other_api.post(path + "/dead-letters/replay").status_code == 404
    assert viewer_api.post(path + "/dead-letters/replay").status_code == 403
    assert owner_api.get("/api/v1/connections/not-an-id").status_code == 404


def test_metrics_report_the_outbox(channel, client):
    from storesync.inventory.services import stock_receive
    from tests.channels.conftest import ACTOR

    stock_receive(workspace_id=channel.workspace_id, variant_id=channel.variants["KURTA-M"].id,
                  location_id=channel.main.id, quantity=2, actor=ACTOR)
    text = client.get("/metrics").content.decode()
    assert "storesync_outbox_pending 1.0" in text
    assert "storesync_outbox_dead_letters 0.0" in text


def test_listing_a_variant_over_the_api_pushes_its_quantity(channel, owner_api, viewer_api):
    from storesync.channels.dispatcher import drain_connection
    from storesync.inventory.services import stock_receive
    from tests.channels.conftest import ACTOR

    ws = channel.workspace_id
    with workspace_scope(ws):
        channel.listings["KURTA-M"].delete()  # list it again, through the API
    m = channel.variants["KURTA-M"]
    stock_receive(workspace_id=ws, variant_id=m.id, location_id=channel.main.id, quantity=6,
                  actor=ACTOR)
    path = f"/api/v1/connections/{channel.connection.id}"
    body = {"variant_id": str(m.id), "external_product_id": "p-9",
            "external_variant_id": "v-9", "inventory_item_id": "item-9",
            "channel_location_id": "loc-1", "price_override": "799.00", "safety_buffer": 1}
    assert viewer_api.post(path + "/listings", body).status_code == 403
    created = owner_api.post(path + "/listings", body)
    assert created.status_code == 201, created.content
    listing = created.json()
    assert (listing["sku"], listing["price_override"], listing["status"]) == (
        "KURTA-M", "799.00", "active")
    again = owner_api.post(path + "/listings", {**body, "external_variant_id": "v-10"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "variant_id"
    bad = owner_api.post(path + "/listings", {**body, "status": "hidden"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"

    drain_connection(workspace_id=ws, connection_id=channel.connection.id)
    assert channel.platform.levels[("item-9", "loc-1")] == 5  # 6 available - 1 held back
    newest = owner_api.get(path + "/listings?limit=1").json()
    [row] = newest["items"]
    assert (row["sku"], row["last_channel_quantity"]) == ("KURTA-M", 5)
    rest = owner_api.get(path + f"/listings?limit=1&cursor={newest['next_cursor']}").json()
    assert [r["sku"] for r in rest["items"]] == ["KURTA-L"] and rest["next_cursor"] is None

    mapping = owner_api.post(path + "/location-mappings",
                             {"channel_location_id": "loc-1", "location_id": str(channel.store.id)})
    assert mapping.status_code == 201
    stock_receive(workspace_id=ws, variant_id=m.id, location_id=channel.main.id, quantity=1,
                  actor=ACTOR)
    drain_connection(workspace_id=ws, connection_id=channel.connection.id)
    assert channel.platform.levels[("item-9", "loc-1")] == 0  # only the (empty) store feeds it


def test_connection_sync_pushes_now_and_polls_orders(channel, capsys):
    from storesync.inventory.services import stock_receive
    from tests.channels.conftest import ACTOR

    stock_receive(workspace_id=channel.workspace_id, variant_id=channel.variants["KURTA-L"].id,
                  location_id=channel.main.id, quantity=7, actor=ACTOR)
    call_command("connection", "sync", "--workspace", "acme", str(channel.connection.id))
    out = capsys.readouterr().out
    assert "stock: 1 listing(s) pushed" in out and "orders: 0 applied" in out
    assert channel.platform.levels[("item-1", "loc-1")] == 7
    assert [name for name, _ in channel.platform.calls][-1] == "import_orders"
    with pytest.raises(CommandError, match="no such connection"):
        call_command("connection", "sync", "--workspace", "acme", "not-an-id")


def test_a_listing_is_unlisted_relisted_and_buffered_over_the_api(channel, owner_api):
    from storesync.channels.dispatcher import drain_connection
    from storesync.inventory.services import stock_receive
    from tests.channels.conftest import ACTOR

    ws, m = channel.workspace_id, channel.variants["KURTA-M"]
    path = f"/api/v1/connections/{channel.connection.id}/listings/{channel.listings['KURTA-M'].id}"
    stock_receive(workspace_id=ws, variant_id=m.id, location_id=channel.main.id, quantity=8,
                  actor=ACTOR)
    drain_connection(workspace_id=ws, connection_id=channel.connection.id)
    assert channel.platform.levels[("item-2", "loc-1")] == 8

    assert owner_api.patch(path, {"status": "unlisted"}).json()["status"] == "unlisted"
    stock_receive(workspace_id=ws, variant_id=m.id, location_id=channel.main.id, quantity=1,
                  actor=ACTOR)
    drain_connection(workspace_id=ws, connection_id=channel.connection.id)
    assert channel.platform.levels[("item-2", "loc-1")] == 8  # unlisted: left alone

    relisted = owner_api.patch(path, {"status": "active", "safety_buffer": 4,
                                      "price_override": "749.50"}).json()
    assert (relisted["safety_buffer"], relisted["price_override"]) == (4, "749.50")
    drain_connection(workspace_id=ws, connection_id=channel.connection.id)
    assert channel.platform.levels[("item-2", "loc-1")] == 5  # 9 available - 4 held back
    assert owner_api.patch(path, {"safety_buffer": None}).json()["safety_buffer"] is None
    changes = [e.detail["changes"] for e in AuditEvent.objects.filter(
        action="listing.changed", subject_id=str(channel.listings["KURTA-M"].id)).order_by("id")]
    assert changes == [{"status": "unlisted"},
                       {"price_override_minor": 74950, "safety_buffer": 4, "status": "active"},
                       {"safety_buffer": None}]
    bad = owner_api.patch(path, {"status": None})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"
    other = f"/api/v1/connections/{channel.connection.id}/listings/{channel.listings['KURTA-L'].id}"
    assert owner_api.patch(other.replace(str(channel.connection.id),
                                         "0190c3c4-0000-7000-8000-000000000000"),
                           {"status": "unlisted"}).status_code == 404
