"""Customer tags, If-Match, marketing consent and order history through the REST API."""

from __future__ import annotations

from tests.api.test_commerce import ADDRESS, PRODUCT
from tests.conftest import CUSTOMER


def test_if_match_refuses_a_stale_customer_update(owner_api, workspace):
    created = owner_api.post("/api/v1/customers", CUSTOMER).json()
    path = f"/api/v1/customers/{created['id']}"
    read = owner_api.get(path)
    tag = read["ETag"]
    assert tag == f'"v{read.json()["version"]}"'
    first = owner_api.patch(path, {"tags": ["vip"], "note": "prefers mornings"},
                            **{"If-Match": tag})
    assert first.status_code == 200 and first.json()["tags"] == ["vip"]
    assert first["ETag"] != tag
    stale = owner_api.patch(path, {"first_name": "Mallory"}, **{"If-Match": tag})
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "If-Match"
    assert owner_api.get(path).json()["first_name"] == "Asha"
    bad = owner_api.patch(path, {"tags": ["x" * 41]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "tags"


def test_marketing_consent(owner_api, viewer_api, workspace):
    created = owner_api.post("/api/v1/customers", CUSTOMER).json()
    assert created["email_marketing_consent"] == {
        "state": "not_subscribed", "opt_in_level": None, "consented_at": None, "source": None}
    path = f"/api/v1/customers/{created['id']}/marketing-consent"
    body = {"channel": "sms", "state": "subscribed", "source": "pos",
            "consented_at": "2026-11-01T10:00:00Z"}
    assert viewer_api.post(path, body).status_code == 403
    saved = owner_api.post(path, body)
    assert saved.status_code == 200, saved.content
    sms = saved.json()["sms_marketing_consent"]
    assert sms["state"] == "subscribed" and sms["source"] == "pos"
    assert sms["opt_in_level"] == "single_opt_in" and sms["consented_at"].startswith("2026-11-01")
    bad = owner_api.post(path, {**body, "state": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "sms_marketing_consent.state"
    # Viewers see the consent state (campaigns filter on it) but no personal data.
    seen = viewer_api.get(f"/api/v1/customers/{created['id']}").json()
    assert seen["personal_data"] == "withheld" and seen["sms_marketing_consent"]["state"] == \
        "subscribed"
    audience = viewer_api.get("/api/v1/customers?sms_marketing_state=subscribed").json()
    assert [c["id"] for c in audience["items"]] == [created["id"]]
    assert viewer_api.get("/api/v1/customers?email_marketing_state=subscribed").json()[
        "items"] == []
    wrong = viewer_api.get("/api/v1/customers?email_marketing_state=yes")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["field"] == "email_marketing_state"


def test_customer_order_history(owner_api, viewer_api, workspace):
    from storesync.orders.services import AddressInput, LineInput, OrderInput, order_create
    from storesync.security.audit import Actor

    product = owner_api.post("/api/v1/products", PRODUCT).json()
    location = owner_api.post("/api/v1/inventory/locations", {"name": "Chennai"}).json()
    owner_api.post("/api/v1/inventory/receive", {"variant_id": product["variants"][0]["id"],
                                                 "location_id": location["id"], "quantity": 9})
    customer = owner_api.post("/api/v1/customers", CUSTOMER).json()
    address = AddressInput(**dict(ADDRESS.items()))
    ws = workspace.workspace.id
    numbers = [order_create(workspace_id=ws, actor=Actor.system("test"), data=OrderInput(
        lines=[LineInput(sku="SAREE-RED", quantity=1)], shipping_address=address,
        customer_id=customer["id"])).number for _ in range(3)]
    owner_api.post("/api/v1/orders", {"lines": [{"sku": "SAREE-RED", "quantity": 1}],
                                      "shipping_address": ADDRESS})  # someone else's
    path = f"/api/v1/customers/{customer['id']}/orders"
    first = owner_api.get(f"{path}?limit=2").json()
    rest = owner_api.get(f"{path}?limit=2&cursor={first['next_cursor']}").json()
    assert [o["number"] for o in first["items"] + rest["items"]] == numbers[::-1]
    assert first["items"][0]["shipping_address"]["city"] == "Chennai"
    withheld = viewer_api.get(path).json()["items"][0]
    assert withheld["personal_data"] == "withheld" and withheld["shipping_address"] is None


def test_consent_given_with_the_details_at_creation(owner_api, workspace):
    from storesync.security.models import AuditEvent

    created = owner_api.post("/api/v1/customers", {
        **CUSTOMER, "email_marketing_consent": {
            "state": "subscribed", "opt_in_level": "confirmed_opt_in", "source": "newsletter"}})
    assert created.status_code == 201, created.content
    consent = created.json()["email_marketing_consent"]
    assert (consent["state"], consent["opt_in_level"], consent["source"]) == (
        "subscribed", "confirmed_opt_in", "newsletter")
    assert consent["consented_at"] is not None
    event = AuditEvent.objects.get(action="customer.created", subject_id=created.json()["id"])
    assert event.detail["email_marketing_consent"]["source"] == "newsletter"
    no_phone = owner_api.post("/api/v1/customers", {
        "first_name": "Ravi", "email": "ravi@example.com",
        "sms_marketing_consent": {"state": "subscribed", "source": "pos"}})
    assert no_phone.status_code == 400
    assert no_phone.json()["error"]["field"] == "sms_marketing_consent.state"
