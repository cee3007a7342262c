"""Low-stock thresholds and list, location changes, and the override of negative stock."""

from __future__ import annotations

import uuid

import pytest

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import selectors, services
from storesync.inventory.models import Level
from storesync.inventory.services import InsufficientStock, StockLine
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


def _receive(ws, variant, location, quantity):
    services.stock_receive(workspace_id=ws, variant_id=variant.id, location_id=location.id,
                           quantity=quantity, actor=ACTOR)
    with workspace_scope(ws):
        return Level.objects.get(variant=variant, location=location)


def _threshold(ws, level, value):
    return services.level_configure(workspace_id=ws, level_id=level.id,
                                    low_stock_threshold=value, actor=ACTOR)


def test_low_stock_counts_available_not_on_hand_and_sorts_by_shortfall(stock):
    ws, variants, main, store = stock
    m, large = variants["KURTA-M"], variants["KURTA-L"]
    m_main = _receive(ws, m, main, 10)  # 10 on hand, but 8 promised: 2 available
    services.stock_reserve(workspace_id=ws, reference="order:1", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 8)])
    l_main = _receive(ws, large, main, 4)  # 4 available
    l_store = _receive(ws, large, store, 30)  # plenty
    _threshold(ws, m_main, 5)  # shortfall 3
    _threshold(ws, l_main, 10)  # shortfall 6
    _threshold(ws, l_store, 5)
    low = selectors.low_stock(workspace_id=ws)
    assert [(lv.variant.sku, lv.location.name, lv.shortfall) for lv in low] == [
        ("KURTA-L", "Pune warehouse", 6), ("KURTA-M", "Pune warehouse", 3)]
    assert low[1].on_hand == 10 and low[1].available == 2
    assert [lv.id for lv in selectors.low_stock(workspace_id=ws, location_id=store.id)] == []
    _threshold(ws, l_main, None)  # warning off
    assert [lv.variant.sku for lv in selectors.low_stock(workspace_id=ws)] == ["KURTA-M"]


def test_a_level_at_its_threshold_is_low_and_an_inactive_location_is_not_listed(stock):
    ws, variants, _main, store = stock
    level = _receive(ws, variants["KURTA-M"], store, 5)
    _threshold(ws, level, 5)
    assert [lv.shortfall for lv in selectors.low_stock(workspace_id=ws)] == [0]
    services.location_set_active(workspace_id=ws, location_id=store.id, active=False,
                                 actor=ACTOR)
    assert selectors.low_stock(workspace_id=ws) == []


@pytest.mark.parametrize("value", [-1, 1.5, True, "5", 10_000_001])
def test_threshold_must_be_a_whole_number(stock, value):
    ws, variants, main, _ = stock
    level = _receive(ws, variants["KURTA-M"], main, 1)
    with pytest.raises(ValidationError) as caught:
        _threshold(ws, level, value)
    assert caught.value.field == "low_stock_threshold"


def test_threshold_of_another_workspace_is_not_found(stock, other_workspace):
    ws, variants, main, _ = stock
    level = _receive(ws, variants["KURTA-M"], main, 1)
    with pytest.raises(NotFound):
        services.level_configure(workspace_id=other_workspace.workspace.id,
                                     level_id=level.id, low_stock_threshold=3, actor=ACTOR)
    with pytest.raises(NotFound):
        _threshold(ws, type("L", (), {"id": uuid.uuid4()}), 3)


def test_location_update_and_names_stay_unique(stock):
    ws, _, main, store = stock
    renamed = services.location_update(workspace_id=ws, location_id=main.id, actor=ACTOR,
                                       changes={"name": " Pune WH 2 ", "city": "Pune",
                                                "kind": "3pl"})
    assert (renamed.name, renamed.city, renamed.kind) == ("Pune WH 2", "Pune", "3pl")
    with pytest.raises(Conflict) as caught:
        services.location_update(workspace_id=ws, location_id=store.id, actor=ACTOR,
                                 changes={"name": "Pune WH 2"})
    assert caught.value.field == "name"
    for changes, field in (({"kind": "depot"}, "kind"), ({"name": ""}, "name"),
                           ({"is_active": False}, "is_active")):
        with pytest.raises(ValidationError) as caught:
            services.location_update(workspace_id=ws, location_id=store.id, actor=ACTOR,
                                     changes=changes)
        assert caught.value.field == field


def test_deactivation_keeps_promised_stock_shippable(stock):
    ws, variants, main, store = stock
    m = variants["KURTA-M"]
    _receive(ws, m, store, 3)
    _receive(ws, m, main, 2)
    services.stock_reserve(workspace_id=ws, reference="order:7", actor=ACTOR,
                           lines=[StockLine(m.id, store.id, 1)])
    with pytest.raises(Conflict) as caught:
        services.location_set_active(workspace_id=ws, location_id=store.id, active=False,
                                     actor=ACTOR)
    assert caught.value.field == "is_active"
    services.reservation_release(workspace_id=ws, reference="order:7", actor=ACTOR)
    assert selectors.available_to_sell(workspace_id=ws, variant_id=m.id) == 5
    services.location_set_active(workspace_id=ws, location_id=store.id, active=False,
                                 actor=ACTOR)
    assert selectors.available_to_sell(workspace_id=ws, variant_id=m.id) == 2
    with pytest.raises(Conflict):  # the last active location stays
        services.location_set_active(workspace_id=ws, location_id=main.id, active=False,
                                     actor=ACTOR)
    services.location_set_active(workspace_id=ws, location_id=store.id, active=True,
                                 actor=ACTOR)
    assert selectors.available_to_sell(workspace_id=ws, variant_id=m.id) == 5


def test_stock_never_goes_negative_or_below_promised_without_an_audited_override(stock):
    ws, variants, main, store = stock
    m = variants["KURTA-M"]
    _receive(ws, m, main, 3)
    services.stock_reserve(workspace_id=ws, reference="order:9", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 2)])
    for attempt in (
        lambda: services.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=main.id,
                                      delta=-2, reason="damaged", actor=ACTOR),
        lambda: services.stock_transfer(workspace_id=ws, variant_id=m.id,
                                        from_location_id=main.id, to_location_id=store.id,
                                        quantity=2, actor=ACTOR),
        lambda: services.stock_reserve(workspace_id=ws, reference="order:10", actor=ACTOR,
                                       lines=[StockLine(m.id, main.id, 2)]),
    ):
        with pytest.raises(InsufficientStock):
            attempt()
    assert not AuditEvent.objects.filter(action="stock.negative_override").exists()
    # The override that leaves on hand (1) below what is promised (2) is audited too.
    moved = services.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=main.id,
                                  delta=-2, reason="count found two missing", actor=ACTOR,
                                  allow_negative=True)
    assert (moved.on_hand_after, moved.reserved_after, moved.negative_override) == (1, 2, True)
    event = AuditEvent.objects.get(action="stock.negative_override")
    assert event.detail["reserved_after"] == 2 and event.detail["reason"].startswith("count")
