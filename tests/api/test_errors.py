"""Bad input is a 4xx with a JSON body naming the field; never a 500; nothing half-written."""

from __future__ import annotations

import pytest
from django.test import Client

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Address, Customer
from tests.conftest import CUSTOMER


def _count(workspace):
    with workspace_scope(workspace.workspace.id):
        return Customer.objects.count(), Address.objects.count()


@pytest.mark.parametrize(("body", "status", "field"), [
    ("{not json", 400, "body"),
    ('["a", "list"]', 422, "body"),
    ({"first_name": "A", "unknown": 1}, 422, "unknown"),
    ({"first_name": 42}, 422, "first_name"),
    ({"first_name": "A", "tags": "vip"}, 422, "tags"),
    ({"email": "nope"}, 400, "email"),
    ({"phone": "12"}, 400, "phone"),
    ({"first_name": "x" * 300}, 422, "first_name"),
    ({}, 400, "email"),
    ({"first_name": "A", "address": {"line1": "1 Road", "city": "Pune", "country_code": "IND"}},
     422, "address.country_code"),
    ({"first_name": "A", "address": {"line1": "", "city": "Pune", "country_code": "IN"}},
     400, "address.line1"),
    ({"first_name": "A", "address": {"line1": "1", "city": "P", "country_code": "IN",
                                     "phone": "bogus"}}, 400, "address.phone"),
])
def test_invalid_customer_bodies_name_the_field(owner_api, workspace, body, status, field):
    response = owner_api.post("/api/v1/customers", body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["field"] == field
    assert _count(workspace) == (0, 0)


def test_oversized_body_is_413(owner_api, workspace, settings):
    big = {"first_name": "A", "note": "x" * (settings.STORESYNC_MAX_BODY_BYTES + 10)}
    response = owner_api.post("/api/v1/customers", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _count(workspace) == (0, 0)


def test_wrong_or_missing_token_is_401(workspace):
    client = Client()
    for headers in ({}, {"Authorization": "Bearer sst_nope_nope"},
                    {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer "}):
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_repeated_bad_tokens_are_throttled(workspace):
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [client.get("/api/v1/workspace", headers={"Authorization": "Bearer sst_a_b"})
             .status_code for _ in range(35)]
    assert codes[0] == 401 and codes[-1] == 429


def test_revoked_and_expired_tokens_are_401(workspace):
    from datetime import timedelta

    from storesync.security.audit import Actor
    from storesync.security.tokens import token_create, token_revoke
    from tests.conftest import ApiClient
    ws = workspace.workspace.id
    revoked = token_create(workspace_id=ws, name="r", role="owner", actor=Actor.system("t"))
    token_revoke(workspace_id=ws, token_id=revoked.token.id, actor=Actor.system("t"))
    expired = token_create(workspace_id=ws, name="e", role="owner", actor=Actor.system("t"),
                           expires_in=timedelta(seconds=-1))
    for issued in (revoked, expired):
        assert ApiClient(issued.plaintext).get("/api/v1/workspace").status_code == 401


def test_missing_permission_is_403_before_any_lookup(viewer_api, owner_api):
    created = owner_api.post("/api/v1/customers", CUSTOMER).json()
    assert viewer_api.post("/api/v1/customers", CUSTOMER).status_code == 403
    assert viewer_api.get("/api/v1/customers?email=asha.rao@example.com").status_code == 403
    # The same 403 whether the object exists or not: nothing about existence leaks.
    real = viewer_api.patch(f"/api/v1/customers/{created['id']}", {"first_name": "X"})
    fake = viewer_api.patch("/api/v1/customers/01a21090-0000-7000-8000-000000000000",
                            {"first_name": "X"})
    assert real.status_code == fake.status_code == 403
    assert real.json() == fake.json()


def test_viewer_reads_customers_without_personal_data(viewer_api, owner_api):
    created = owner_api.post("/api/v1/customers", CUSTOMER).json()
    body = viewer_api.get(f"/api/v1/customers/{created['id']}").json()
    assert body["personal_data"] == "withheld"
    assert body["email"] is None and body["addresses"] is None


def test_unknown_purpose_and_bad_cursor_are_rejected(owner_api):
    assert owner_api.get("/api/v1/customers?purpose=fun").json()["error"]["field"] == "purpose"
    bad = owner_api.get("/api/v1/customers?cursor=zzz")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_malformed_id_is_404_not_500(owner_api):
    assert owner_api.get("/api/v1/customers/not-a-uuid").status_code == 404


def test_patch_changes_only_named_fields_and_validates(owner_api):
    created = owner_api.post("/api/v1/customers", CUSTOMER).json()
    path = f"/api/v1/customers/{created['id']}"
    assert owner_api.patch(path, {"email": "bad"}).json()["error"]["field"] == "email"
    assert owner_api.patch(path, {}).status_code == 400
    changed = owner_api.patch(path, {"email": "New@Example.com"}).json()
    assert changed["email"] == "new@example.com" and changed["last_name"] == "Rao"
    found = owner_api.get("/api/v1/customers?email=new@example.com").json()["items"]
    assert [c["id"] for c in found] == [created["id"]]
    assert owner_api.get("/api/v1/customers?email=asha.rao@example.com").json()["items"] == []


def test_database_outage_is_503_json(owner_api, monkeypatch):
    from django.db import OperationalError

    from storesync.customers import selectors

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "customer_list", down)
    response = owner_api.get("/api/v1/customers")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_failure_half_way_through_a_write_leaves_nothing(owner_api, workspace, monkeypatch):
    """The customer row is written, then the address insert fails: both are rolled back."""
    from django.db import OperationalError

    def broken_save(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Address, "save", broken_save)
    response = owner_api.post("/api/v1/customers", CUSTOMER)
    assert response.status_code == 503
    assert _count(workspace) == (0, 0)
