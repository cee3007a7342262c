from __future__ import annotations

from storesync.security.models import AuditEvent
from tests.conftest import CUSTOMER


def test_create_and_read_customer_with_personal_data(owner_api, workspace):
    created = owner_api.post("/api/v1/customers", CUSTOMER)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "asha.rao@example.com"
    assert body["phone"] == "+919876543210"
    assert body["addresses"][0]["city"] == "Pune"

    read = owner_api.get(f"/api/v1/customers/{body['id']}?purpose=order_fulfilment")
    assert read.status_code == 200
    assert read.json()["last_name"] == "Rao"
    event = AuditEvent.objects.filter(
        action="personal_data.read", subject_id=body["id"], purpose="order_fulfilment"
    ).get()
    assert event.actor_type == "token"
    assert "customer.email" in event.fields and "address.city" in event.fields
