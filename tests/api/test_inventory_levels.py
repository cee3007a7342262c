"""Locations, low-stock thresholds and the low-stock list through the REST API."""

from __future__ import annotations

from tests.api.test_commerce import catalog  # noqa: F401  (fixture)


def test_threshold_and_low_stock_list(owner_api, viewer_api, catalog):  # noqa: F811
    _, _location, red = catalog
    level = owner_api.get(f"/api/v1/inventory/levels?variant_id={red}").json()[0]
    assert level["low_stock_threshold"] is None
    path = f"/api/v1/inventory/levels/{level['id']}"
    assert viewer_api.patch(path, {"low_stock_threshold": 5}).status_code == 403
    bad = owner_api.patch(path, {"low_stock_threshold": -1})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "low_stock_threshold"
    updated = owner_api.patch(path, {"low_stock_threshold": 5})
    assert updated.status_code == 200 and updated.json()["low_stock_threshold"] == 5
    low = viewer_api.get("/api/v1/inventory/low-stock").json()
    assert [(r["sku"], r["available"], r["shortfall"]) for r in low] == [("SAREE-RED", 3, 2)]
    assert low[0]["location"] == "Chennai"
    assert owner_api.patch(path, {"low_stock_threshold": None}).json()[
        "low_stock_threshold"] is None
    assert owner_api.get("/api/v1/inventory/low-stock").json() == []


def test_location_rename_and_deactivate(owner_api, catalog):  # noqa: F811
    _, location, _red = catalog
    spare = owner_api.post("/api/v1/inventory/locations", {"name": "Spare"}).json()
    path = f"/api/v1/inventory/locations/{spare['id']}"
    renamed = owner_api.patch(path, {"name": "Madurai", "city": "Madurai"})
    assert renamed.status_code == 200 and renamed.json()["city"] == "Madurai"
    clash = owner_api.patch(path, {"name": "Chennai"})
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "name"
    off = owner_api.patch(path, {"is_active": False})
    assert off.json()["is_active"] is False
    names = [(loc["name"], loc["is_active"]) for loc in
             owner_api.get("/api/v1/inventory/locations").json()]
    assert names == [("Chennai", True), ("Madurai", False)]
    last = owner_api.patch(f"/api/v1/inventory/locations/{location['id']}", {"is_active": False})
    assert last.status_code == 409 and last.json()["error"]["field"] == "is_active"
