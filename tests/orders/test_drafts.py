"""Draft orders: no stock held while open; completed into one order, once."""

from __future__ import annotations

import pytest

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import InsufficientStock
from storesync.orders.drafts import (
    DraftInput,
    allocate,
    draft_order_complete,
    draft_order_create,
    draft_order_update,
)
from storesync.orders.models import DraftOrder, Order
from storesync.orders.services import LineInput
from storesync.security.access import PersonalDataAccessError, personal_data_access
from tests.conftest import ACTOR
from tests.orders.conftest import PUNE, level_of


def _draft(ws, **extra):
    data = DraftInput(lines=[LineInput(sku="KURTA-M", quantity=2)], shipping_address=PUNE,
                      email="asha@example.com", shipping_minor=5000, **extra)
    return draft_order_create(workspace_id=ws, data=data, actor=ACTOR)


def test_a_draft_holds_no_stock_and_is_priced(shop):
    ws, variants, _ = shop
    draft = _draft(ws, discount_minor=10000)
    assert (draft.number, draft.status, draft.subtotal_minor, draft.total_minor) == (
        1, "open", 179800, 179800 - 10000 + 5000)
    assert level_of(ws, variants["KURTA-M"]).reserved == 0
    with workspace_scope(ws):
        loaded = DraftOrder.objects.get(id=draft.id)
    with pytest.raises(PersonalDataAccessError):
        _ = loaded.email
    assert _draft(ws).number == 2


def test_complete_reserves_once_and_spreads_the_discount(shop):
    ws, variants, _ = shop
    draft = draft_order_create(workspace_id=ws, actor=ACTOR, data=DraftInput(
        lines=[LineInput(sku="KURTA-M", quantity=2), LineInput(sku="KURTA-L", quantity=1)],
        shipping_address=PUNE, email="asha@example.com", discount_minor=10001))
    order, created = draft_order_complete(workspace_id=ws, draft_id=draft.id, actor=ACTOR)
    assert created and order.source == "draft_order"
    assert order.total_minor == 3 * 89900 - 10001
    with workspace_scope(ws):
        discounts = sorted(ln.discount_minor for ln in order.lines.all())
        fresh = DraftOrder.objects.get(id=draft.id)
        stored = Order.objects.get(id=order.id)
    assert sum(discounts) == 10001 and discounts == [3334, 6667]
    assert (fresh.status, fresh.order_id) == ("completed", order.id)
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="order_fulfilment"):
        assert (stored.email, stored.ship_city) == ("asha@example.com", "Pune")
    again, created_again = draft_order_complete(workspace_id=ws, draft_id=draft.id, actor=ACTOR)
    assert again.id == order.id and not created_again
    assert level_of(ws, variants["KURTA-M"]).reserved == 2
    with workspace_scope(ws):
        assert Order.objects.count() == 1
    with pytest.raises(Conflict):
        draft_order_update(workspace_id=ws, draft_id=draft.id, changes={"note": "late"},
                           expected_version=None, actor=ACTOR)


def test_update_replaces_lines_and_refuses_a_stale_version(shop):
    ws, _, _ = shop
    draft = _draft(ws)
    updated = draft_order_update(
        workspace_id=ws, draft_id=draft.id, expected_version=draft.version, actor=ACTOR,
        changes={"lines": [LineInput(sku="KURTA-L", quantity=1, unit_price_minor=50000)],
                 "note": "gift wrap"})
    assert (updated.subtotal_minor, updated.total_minor, updated.version) == (
        50000, 55000, draft.version + 1)
    with workspace_scope(ws):
        assert [(ln.sku, ln.quantity) for ln in updated.lines.all()] == [("KURTA-L", 1)]
    with pytest.raises(Conflict) as err:
        draft_order_update(workspace_id=ws, draft_id=draft.id, changes={"note": "x"},
                           expected_version=draft.version, actor=ACTOR)
    assert err.value.field == "If-Match"


@pytest.mark.parametrize(("changes", "field"), [
    ({"lines": []}, "lines"),
    ({"lines": [LineInput(sku="NOPE", quantity=1)]}, "lines.0.sku"),
    ({"lines": [LineInput(sku="KURTA-M", quantity=-1)]}, "lines.0.quantity"),
    ({"discount_minor": 10**9}, "discount"),
    ({"shipping_minor": -5}, "shipping"),
    ({"email": "not-an-email"}, "email"),
    ({"status": "completed"}, "status"),
])
def test_bad_draft_changes_name_the_field(shop, changes, field):
    ws, _, _ = shop
    draft = _draft(ws)
    with pytest.raises(ValidationError) as err:
        draft_order_update(workspace_id=ws, draft_id=draft.id, changes=changes,
                           expected_version=None, actor=ACTOR)
    assert err.value.field == field
    with workspace_scope(ws):
        assert DraftOrder.objects.get(id=draft.id).version == draft.version


def test_a_draft_that_cannot_become_an_order_stays_open(shop):
    ws, variants, _ = shop
    no_address = draft_order_create(workspace_id=ws, actor=ACTOR, data=DraftInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)]))
    with pytest.raises(ValidationError) as err:
        draft_order_complete(workspace_id=ws, draft_id=no_address.id, actor=ACTOR)
    assert err.value.field == "shipping_address"
    too_many = draft_order_create(workspace_id=ws, actor=ACTOR, data=DraftInput(
        lines=[LineInput(sku="KURTA-M", quantity=9)], shipping_address=PUNE))
    with pytest.raises(InsufficientStock):
        draft_order_complete(workspace_id=ws, draft_id=too_many.id, actor=ACTOR)
    with workspace_scope(ws):
        assert set(DraftOrder.objects.values_list("status", flat=True)) == {"open"}
        assert not Order.objects.exists()
    assert level_of(ws, variants["KURTA-M"]).reserved == 0


def test_another_workspaces_draft_is_not_found(shop, other_workspace):
    ws, _, _ = shop
    draft = _draft(ws)
    with pytest.raises(NotFound):
        draft_order_complete(workspace_id=other_workspace.workspace.id, draft_id=draft.id,
                             actor=ACTOR)


def test_allocate_adds_up_exactly():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(0, [5, 5]) == [0, 0]
    assert sum(allocate(99_999, [179800, 89900, 7])) == 99_999
