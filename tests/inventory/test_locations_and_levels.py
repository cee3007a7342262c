"""Locations (create, update, deactivate; GSTIN checked) and level settings and reads."""

from __future__ import annotations

import pytest

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import selectors, services
from storesync.inventory.models import Location
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR

GSTIN = "27AAPFU0939F1ZV"


def test_create_validates_gstin_and_country(workspace):
    ws = workspace.workspace.id
    hub = services.location_create(workspace_id=ws, name=" Hub ", actor=ACTOR,
                                   gstin=GSTIN.lower(), province_code="mh")
    assert (hub.name, hub.gstin, hub.province_code, hub.country_code) == (
        "Hub", GSTIN, "MH", "IN")
    with pytest.raises(ValidationError) as bad:
        services.location_create(workspace_id=ws, name="Other", actor=ACTOR,
                                 gstin="27AAPFU0939F1ZX")
    assert bad.value.field == "gstin"
    with pytest.raises(ValidationError) as country:
        services.location_create(workspace_id=ws, name="Other", actor=ACTOR, country_code="IND")
    assert country.value.field == "country_code"
    with workspace_scope(ws):
        assert list(Location.objects.values_list("name", flat=True)) == ["Hub"]


def test_update_deactivate_and_audit(stock):
    ws, _variants, main, store = stock
    services.location_update(workspace_id=ws, location_id=main.id, actor=ACTOR,
                             changes={"city": "Pune", "gstin": GSTIN})
    with pytest.raises(Conflict):
        services.location_update(workspace_id=ws, location_id=main.id, actor=ACTOR,
                                 changes={"name": store.name})
    with pytest.raises(ValidationError):
        services.location_update(workspace_id=ws, location_id=main.id, actor=ACTOR,
                                 changes={"is_active": "no"})
    services.location_set_active(workspace_id=ws, location_id=main.id, active=False, actor=ACTOR)
    services.location_set_active(workspace_id=ws, location_id=main.id, active=False, actor=ACTOR)
    saved = selectors.location_get(workspace_id=ws, location_id=main.id)
    assert (saved.city, saved.gstin, saved.name, saved.is_active) == (
        "Pune", GSTIN, "Pune warehouse", False)
    # One event for the edit, one for deactivating (repeating it changes nothing).
    assert AuditEvent.objects.filter(action="location.updated").count() == 2
    assert [x.name for x in selectors.location_list(workspace_id=ws, active_only=True)] == [
        "Mumbai store"]


def test_other_workspaces_locations_are_not_found(stock, other_workspace):
    _ws, _variants, main, _store = stock
    other = other_workspace.workspace.id
    with pytest.raises(NotFound):
        selectors.location_get(workspace_id=other, location_id=main.id)
    with pytest.raises(NotFound):
        services.location_update(workspace_id=other, location_id=main.id, actor=ACTOR,
                                 changes={"city": "X"})
    with pytest.raises(NotFound):
        services.location_set_active(workspace_id=other, location_id=main.id, active=False,
                                     actor=ACTOR)


def test_level_configure_sets_buffer_and_threshold(stock):
    ws, variants, main, _store = stock
    movement = services.stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                                      location_id=main.id, quantity=5, actor=ACTOR)
    level = services.level_configure(workspace_id=ws, level_id=movement.level_id,
                                     safety_buffer=2, low_stock_threshold=3, actor=ACTOR)
    assert (level.available, level.low_stock_threshold, level.version) == (3, 3, 3)
    assert [lv.id for lv in selectors.low_stock(workspace_id=ws)] == [level.id]
    for bad in ({"safety_buffer": -1, "low_stock_threshold": None},
                {"safety_buffer": 0, "low_stock_threshold": -2}):
        with pytest.raises(ValidationError):
            services.level_configure(workspace_id=ws, level_id=level.id, actor=ACTOR, **bad)
    event = AuditEvent.objects.get(action="stock.settings_changed")
    assert event.detail["before"] == {"safety_buffer": 0, "low_stock_threshold": None}
    # A deactivated location's levels are not reported as low stock.
    services.location_set_active(workspace_id=ws, location_id=main.id, active=False, actor=ACTOR)
    assert selectors.low_stock(workspace_id=ws) == []


def test_level_list_filters_and_pages(stock):
    ws, variants, main, store = stock
    for sku, location in (("KURTA-M", main), ("KURTA-L", main), ("KURTA-L", store)):
        services.stock_receive(workspace_id=ws, variant_id=variants[sku].id,
                               location_id=location.id, quantity=1, actor=ACTOR)
    assert len(selectors.level_list(workspace_id=ws).items) == 3
    at_store = selectors.level_list(workspace_id=ws, location_id=store.id).items
    assert [(lv.variant.sku, lv.location.name) for lv in at_store] == [("KURTA-L", "Mumbai store")]
    assert len(selectors.level_list(workspace_id=ws, sku="kurta-l").items) == 2
    first = selectors.level_list(workspace_id=ws, limit=2)
    rest = selectors.level_list(workspace_id=ws, limit=2, cursor=first.next_cursor)
    assert len(first.items) == 2 and len(rest.items) == 1 and rest.next_cursor is None
