"""Settings → Locations: list, create, edit (GSTIN checked), deactivate; roles, isolation."""

from __future__ import annotations

from django.test import Client

from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Location
from storesync.security.models import AuditEvent
from tests.web.conftest import assert_no_inline_code

VALID_GSTIN = "27AAPFU0939F1ZV"
FORM = {"name": "Nagpur hub", "kind": "warehouse", "address_line1": "Plot 4, MIDC",
        "city": "Nagpur", "postcode": "440016", "province_code": "mh", "country_code": "IN",
        "gstin": VALID_GSTIN}


def _locations(ws) -> dict[str, Location]:
    with workspace_scope(ws):
        return {x.name: x for x in Location.objects.all()}


def test_create_and_list(owner_client, workspace):
    response = owner_client.post("/settings/locations/", FORM)
    assert response.status_code == 302
    hub = _locations(workspace.workspace.id)["Nagpur hub"]
    assert (hub.gstin, hub.province_code, hub.is_active) == (VALID_GSTIN, "MH", True)
    html = owner_client.get("/settings/locations/").content.decode()
    assert "Nagpur hub" in html and VALID_GSTIN in html
    assert_no_inline_code(html)


def test_invalid_gstin_and_missing_name_are_shown_next_to_the_field(owner_client, workspace):
    for data, message in [({**FORM, "gstin": "27AAPFU0939F1ZX"}, "not a valid GSTIN"),
                          ({**FORM, "name": ""}, "This field is required"),
                          ({**FORM, "country_code": "I1"}, "two-letter country code")]:
        response = owner_client.post("/settings/locations/", data)
        html = response.content.decode()
        assert response.status_code == 400, data
        field = html.split('has-error')[1][:600]
        assert message in field, data
    assert _locations(workspace.workspace.id) == {}


def test_a_duplicate_name_is_refused(owner_client, stock):
    response = owner_client.post("/settings/locations/", {**FORM, "name": "Pune warehouse"})
    assert response.status_code == 400 and "exists" in response.content.decode()


def test_edit_and_deactivate(owner_client, stock):
    ws, _variants, main, _store = stock
    page = owner_client.get(f"/settings/locations/{main.id}/")
    assert page.status_code == 200 and 'value="Pune warehouse"' in page.content.decode()
    response = owner_client.post(f"/settings/locations/{main.id}/",
                                 {**FORM, "name": "Pune main", "gstin": ""})
    assert response.status_code == 302
    bad = owner_client.post(f"/settings/locations/{main.id}/", {**FORM, "gstin": "12345"})
    assert bad.status_code == 400 and "not a valid GSTIN" in bad.content.decode()
    saved = _locations(ws)["Pune main"]
    assert saved.city == "Nagpur" and saved.gstin == ""
    owner_client.post(f"/settings/locations/{main.id}/active", {"active": "0"})
    assert not _locations(ws)["Pune main"].is_active
    events = AuditEvent.objects.filter(action="location.updated", subject_id=str(main.id))
    assert events.count() == 2
    owner_client.post(f"/settings/locations/{main.id}/active", {"active": "1"})
    assert _locations(ws)["Pune main"].is_active


def test_viewer_cannot_manage_locations(member_client, stock):
    ws, _variants, main, _store = stock
    viewer = member_client("viewer", totp=False)
    assert viewer.get("/settings/locations/").status_code == 403
    assert viewer.post("/settings/locations/", FORM).status_code == 403
    assert viewer.post(f"/settings/locations/{main.id}/active", {"active": "0"}).status_code == 403
    assert _locations(ws)["Pune warehouse"].is_active and "Nagpur hub" not in _locations(ws)


def test_other_workspaces_locations_are_not_found(other_workspace, stock):
    ws, _variants, main, _store = stock
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    assert intruder.get(f"/settings/locations/{main.id}/").status_code == 404
    assert intruder.post(f"/settings/locations/{main.id}/", FORM).status_code == 404
    assert intruder.post(f"/settings/locations/{main.id}/active",
                         {"active": "0"}).status_code == 404
    assert "Pune warehouse" not in intruder.get("/settings/locations/").content.decode()
    assert _locations(ws)["Pune warehouse"].is_active
