"""Every stock change announces itself (``stock_changed``) inside its transaction."""

from __future__ import annotations

import pytest

from storesync.inventory import services
from storesync.inventory.services import InsufficientStock, StockLine
from storesync.inventory.signals import stock_changed
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


@pytest.fixture
def heard():
    calls = []

    def receiver(sender, *, workspace_id, variant_ids, **kwargs):
        calls.append((workspace_id, set(variant_ids)))

    stock_changed.connect(receiver, dispatch_uid="test_signals")
    yield calls
    stock_changed.disconnect(dispatch_uid="test_signals")


def test_every_change_of_on_hand_reserved_or_buffer_is_announced(stock, heard):
    ws, variants, main, store = stock
    m = variants["KURTA-M"].id
    services.stock_receive(workspace_id=ws, variant_id=m, location_id=main.id, quantity=5,
                           actor=ACTOR)
    services.stock_adjust(workspace_id=ws, variant_id=m, location_id=main.id, delta=-1,
                          reason="count", actor=ACTOR)
    services.stock_transfer(workspace_id=ws, variant_id=m, from_location_id=main.id,
                            to_location_id=store.id, quantity=1, actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="o-1", actor=ACTOR,
                           lines=[StockLine(m, main.id, 1)])
    services.reservation_fulfil(workspace_id=ws, reference="o-1", actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="o-2", actor=ACTOR,
                           lines=[StockLine(m, main.id, 1)])
    services.reservation_release(workspace_id=ws, reference="o-2", actor=ACTOR)
    services.level_set_safety_buffer(workspace_id=ws, variant_id=m, location_id=main.id,
                                     safety_buffer=1, actor=ACTOR)
    assert heard == [(ws, {m})] * 8


def test_a_refused_change_announces_nothing(stock, heard):
    ws, variants, main, _ = stock
    with pytest.raises(InsufficientStock):
        services.stock_reserve(workspace_id=ws, reference="o-1", actor=ACTOR,
                               lines=[StockLine(variants["KURTA-M"].id, main.id, 1)])
    assert heard == []
