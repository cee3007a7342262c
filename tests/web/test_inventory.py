"""Inventory pages: levels by location and SKU, adjust / receive / transfer / buffer and
threshold through the services (ledger with actor and reason), roles, isolation."""

from __future__ import annotations

import re

from django.test import Client

from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level, Movement
from storesync.inventory.services import stock_receive
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code


def _stocked(stock, quantity: int = 10) -> Level:
    ws, variants, main, _store = stock
    movement = stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                             location_id=main.id, quantity=quantity, actor=ACTOR)
    with workspace_scope(ws):
        return Level.objects.get(id=movement.level_id)


def _fresh(level: Level) -> Level:
    with workspace_scope(level.workspace_id):
        return Level.objects.get(id=level.id)


def _movements(level: Level) -> list[Movement]:
    with workspace_scope(level.workspace_id):
        return list(Movement.objects.filter(level_id=level.id).order_by("created_at", "id"))


def test_levels_list_filters_by_location_and_sku(owner_client, stock):
    ws, variants, _main, store = stock
    level = _stocked(stock)
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-L"].id, location_id=store.id,
                  quantity=3, actor=ACTOR)
    html = owner_client.get("/inventory/").content.decode()
    assert f'href="/inventory/{level.id}/"' in html and "KURTA-L" in html
    assert_no_inline_code(html)
    at_store = owner_client.get(f"/inventory/?location={store.id}").content.decode()
    assert "KURTA-L" in at_store and "KURTA-M" not in at_store
    by_sku = owner_client.get("/inventory/?sku=urta-m").content.decode()
    assert "KURTA-M" in by_sku and "KURTA-L" not in by_sku
    assert "No stock matches" in owner_client.get("/inventory/?sku=nope").content.decode()
    assert owner_client.get("/inventory/?cursor=x").status_code == 404


def test_adjust_writes_the_ledger_with_actor_and_reason(owner_client, workspace, stock):
    level = _stocked(stock)
    response = owner_client.post(f"/inventory/{level.id}/adjust",
                                 {"delta": "-3", "reason": "damaged in transit"})
    assert response.status_code == 302
    assert _fresh(level).on_hand == 7
    last = _movements(level)[-1]
    assert (last.kind, last.on_hand_delta, last.reason) == ("adjust", -3, "damaged in transit")
    assert (last.actor_type, last.actor_id) == ("user", str(workspace.owner.id))
    page = owner_client.get(f"/inventory/{level.id}/").content.decode()
    assert "damaged in transit" in page and 'id="on-hand">7<' in page
    assert "owner@acme.example" in page.split('id="ledger"')[1]  # who, by name
    assert "Adjusted by -3: 7 on hand." in page


def test_bad_adjustments_are_refused_next_to_the_field(owner_client, stock):
    level = _stocked(stock, quantity=2)
    for data, message, status in [
        ({"delta": "0", "reason": "count"}, "Enter a change other than zero", 400),
        ({"delta": "abc", "reason": "count"}, "Enter a whole number", 400),
        ({"delta": "-1", "reason": ""}, "This field is required", 400),
        ({"delta": "-5", "reason": "count"}, "not enough stock", 409),
    ]:
        response = owner_client.post(f"/inventory/{level.id}/adjust", data)
        html = response.content.decode()
        assert response.status_code == status, data
        form = html.split('id="adjust-form"')[1].split("</form>")[0]
        assert message in form, data
    assert _fresh(level).on_hand == 2 and len(_movements(level)) == 1


def test_receive_and_transfer(owner_client, stock):
    ws, variants, _main, store = stock
    level = _stocked(stock, quantity=5)
    owner_client.post(f"/inventory/{level.id}/receive", {"quantity": "4", "reason": "INV-77"})
    assert _fresh(level).on_hand == 9
    response = owner_client.post(f"/inventory/{level.id}/transfer",
                                 {"to_location": str(store.id), "quantity": "6",
                                  "reason": "restock store"})
    assert response.status_code == 302
    assert _fresh(level).on_hand == 3
    with workspace_scope(ws):
        at_store = Level.objects.get(variant=variants["KURTA-M"], location=store)
    assert at_store.on_hand == 6
    kinds = [(m.kind, m.reason) for m in _movements(level)]
    assert kinds[-2:] == [("receive", "INV-77"), ("transfer_out", "restock store")]
    too_many = owner_client.post(f"/inventory/{level.id}/transfer",
                                 {"to_location": str(store.id), "quantity": "50"})
    assert too_many.status_code == 409 and "not enough stock" in too_many.content.decode()
    no_target = owner_client.post(f"/inventory/{level.id}/transfer", {"quantity": "1"})
    assert no_target.status_code == 400
    assert _fresh(level).on_hand == 3


def test_buffer_and_threshold_are_saved_and_audited(owner_client, stock):
    level = _stocked(stock, quantity=5)
    response = owner_client.post(f"/inventory/{level.id}/settings",
                                 {"safety_buffer": "2", "low_stock_threshold": "4"})
    assert response.status_code == 302
    saved = _fresh(level)
    assert (saved.safety_buffer, saved.low_stock_threshold, saved.available) == (2, 4, 3)
    event = AuditEvent.objects.get(action="stock.settings_changed", subject_id=str(level.id))
    assert event.detail["after"] == {"safety_buffer": 2, "low_stock_threshold": 4}
    # Now it is low: the dashboard lists it.
    assert f'href="/inventory/{level.id}/"' in owner_client.get("/").content.decode()
    bad = owner_client.post(f"/inventory/{level.id}/settings", {"safety_buffer": "-1"})
    assert bad.status_code == 400
    assert "greater than or equal to 0" in bad.content.decode()
    assert _fresh(level).safety_buffer == 2
    owner_client.post(f"/inventory/{level.id}/settings",
                      {"safety_buffer": "0", "low_stock_threshold": ""})
    assert _fresh(level).low_stock_threshold is None


def test_receive_a_new_sku_at_a_location(owner_client, stock):
    ws, variants, _main, store = stock
    response = owner_client.post("/inventory/receive", {
        "sku": "KURTA-L", "location": str(store.id), "quantity": "12", "reason": "first lot"})
    assert response.status_code == 302
    with workspace_scope(ws):
        level = Level.objects.get(variant=variants["KURTA-L"], location=store)
    assert level.on_hand == 12 and response["Location"] == f"/inventory/{level.id}/"
    unknown = owner_client.post("/inventory/receive", {
        "sku": "NOPE", "location": str(store.id), "quantity": "1"})
    assert unknown.status_code == 400 and "No variant has this SKU" in unknown.content.decode()


def test_ledger_pages(owner_client, stock, monkeypatch):
    from storesync.web.views import inventory as view

    level = _stocked(stock, quantity=1)
    for i in range(3):
        owner_client.post(f"/inventory/{level.id}/adjust", {"delta": "1", "reason": f"count {i}"})
    monkeypatch.setattr(view, "LEDGER_PAGE", 2)
    first = owner_client.get(f"/inventory/{level.id}/").content.decode()
    assert "count 2" in first and "count 0" not in first
    cursor = re.search(r'\?cursor=([0-9a-f-]+)#ledger', first).group(1)
    second = owner_client.get(f"/inventory/{level.id}/?cursor={cursor}").content.decode()
    assert "count 0" in second and "count 2" not in second


def test_viewer_sees_stock_but_cannot_change_it(member_client, stock):
    _ws, _variants, _main, store = stock
    level = _stocked(stock)
    viewer = member_client("viewer", totp=False)
    page = viewer.get(f"/inventory/{level.id}/")
    assert page.status_code == 200 and 'id="adjust-form"' not in page.content.decode()
    for path, data in [("adjust", {"delta": "-1", "reason": "x"}), ("receive", {"quantity": "1"}),
                       ("transfer", {"to_location": str(store.id), "quantity": "1"}),
                       ("settings", {"safety_buffer": "5"})]:
        assert viewer.post(f"/inventory/{level.id}/{path}", data).status_code == 403, path
    assert viewer.get("/inventory/receive").status_code == 403
    saved = _fresh(level)
    assert (saved.on_hand, saved.safety_buffer) == (10, 0) and len(_movements(level)) == 1


def test_other_workspaces_levels_are_not_found(other_workspace, stock):
    level = _stocked(stock)
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    assert intruder.get(f"/inventory/{level.id}/").status_code == 404
    assert intruder.post(f"/inventory/{level.id}/adjust",
                         {"delta": "-1", "reason": "x"}).status_code == 404
    assert "KURTA-M" not in intruder.get("/inventory/").content.decode()
    assert intruder.post("/inventory/receive", {"sku": "KURTA-M", "quantity": "1",
                                                "location": str(stock[2].id)}).status_code == 400
    assert _fresh(level).on_hand == 10
