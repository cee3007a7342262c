"""Customers: masked lists, audited reveal, exact lookup, roles, and workspace isolation."""

from __future__ import annotations

import re

from django.test import Client

from storesync.customers.services import CustomerInput, customer_create
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code, enrol_totp

PLAINTEXT = ("zenobia", "quill", "9812345671", "quillpur")


def _assert_masked(html: str) -> None:
    lowered = html.lower()
    for value in PLAINTEXT:
        assert value not in lowered, value
    assert "•••••" in html


def test_list_is_masked_and_never_decrypts(owner_client, customer):
    response = owner_client.get("/customers/")
    html = response.content.decode()
    _assert_masked(html)
    assert str(customer.id)[-8:] in html and "vip" in html
    assert f'action="/customers/{customer.id}/reveal"' in html  # a Reveal button per row
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()


def test_detail_is_masked_until_revealed(owner_client, customer):
    html = owner_client.get(f"/customers/{customer.id}/").content.decode()
    _assert_masked(html)
    assert 'id="reveal"' in html and 'name="purpose"' in html


def test_reveal_shows_the_data_and_writes_an_audit_event(owner_client, workspace, customer):
    response = owner_client.post(f"/customers/{customer.id}/reveal",
                                 {"purpose": "customer_support"})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="email">zenobia.quill@example.com<', html)
    assert "Quillpur" in html and "Customer support" in html
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="personal_data.read", subject_id=str(customer.id))
    assert (event.actor_type, event.actor_id) == ("user", str(workspace.owner.id))
    assert event.chain == str(workspace.workspace.id)
    assert event.purpose == "customer_support" and "customer.email" in event.fields


def test_every_reveal_is_its_own_audit_event(owner_client, customer):
    for purpose in ("customer_support", "order_fulfilment"):
        owner_client.post(f"/customers/{customer.id}/reveal", {"purpose": purpose})
    purposes = set(AuditEvent.objects.filter(action="personal_data.read")
                   .values_list("purpose", flat=True))
    assert purposes == {"customer_support", "order_fulfilment"}


def test_reveal_needs_a_known_purpose(owner_client, customer):
    for data in ({}, {"purpose": ""}, {"purpose": "curiosity"}):
        response = owner_client.post(f"/customers/{customer.id}/reveal", data)
        assert response.status_code == 400
        _assert_masked(response.content.decode())
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()


def test_reveal_is_post_only_and_csrf_protected(workspace, customer):
    enrol_totp(workspace.owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(workspace.owner)
    assert client.get(f"/customers/{customer.id}/reveal").status_code == 405
    forged = client.post(f"/customers/{customer.id}/reveal", {"purpose": "customer_support"})
    assert forged.status_code == 403 and "This form has expired" in forged.content.decode()
    assert_no_inline_code(forged.content.decode(), "csrf failure page")
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()


def test_exact_lookup_by_email_or_phone(owner_client, customer):
    short = str(customer.id)[-8:]
    by_email = owner_client.post("/customers/", {"email": "ZENOBIA.QUILL@example.com"})
    assert short in by_email.content.decode() and by_email["Cache-Control"] == "no-store"
    by_phone = owner_client.post("/customers/", {"phone": "+91 98123 45671"})
    assert short in by_phone.content.decode()
    missing = owner_client.post("/customers/", {"email": "nobody@example.com"}).content.decode()
    assert short not in missing and "No customer has exactly that email or phone" in missing
    empty = owner_client.post("/customers/", {"email": "", "phone": ""}).content.decode()
    assert "Enter an email address or a phone number" in empty
    found = owner_client.post("/customers/", {"email": "zenobia.quill@example.com"})
    _assert_masked(found.content.decode().replace("zenobia.quill@example.com", ""))


def test_lookup_values_never_go_into_urls(owner_client, customer):
    html = owner_client.get("/customers/").content.decode()
    assert re.search(r'<form method="post" action="/customers/" class="row lookup"', html)
    ignored = owner_client.get("/customers/?email=zenobia.quill@example.com").content.decode()
    assert "No customer has exactly" not in ignored  # a GET only lists


def test_viewer_sees_masked_customers_but_cannot_reveal_or_look_up(member_client, customer):
    viewer = member_client("viewer", totp=False)
    listing = viewer.get("/customers/")
    assert listing.status_code == 200
    assert "/reveal" not in listing.content.decode()  # no Reveal buttons for this role
    assert viewer.get(f"/customers/{customer.id}/").status_code == 200
    assert viewer.post(f"/customers/{customer.id}/reveal",
                       {"purpose": "customer_support"}).status_code == 403
    assert viewer.post("/customers/", {"email": "zenobia.quill@example.com"}).status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data.read",
                                         subject_type="customer").exists()


def test_staff_with_totp_can_reveal(member_client, customer):
    staff = member_client("staff")
    response = staff.post(f"/customers/{customer.id}/reveal", {"purpose": "order_fulfilment"})
    assert "zenobia.quill@example.com" in response.content.decode()


def test_other_workspaces_customers_are_not_found(workspace, other_workspace, customer):
    enrol_totp(other_workspace.owner)
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    assert intruder.get(f"/customers/{customer.id}/").status_code == 404
    assert intruder.post(f"/customers/{customer.id}/reveal",
                         {"purpose": "customer_support"}).status_code == 404
    assert str(customer.id)[-8:] not in intruder.get("/customers/").content.decode()
    found = intruder.post("/customers/", {"email": "zenobia.quill@example.com"}).content.decode()
    assert str(customer.id)[-8:] not in found
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()


def test_unknown_ids_and_bad_cursors_are_404_pages(owner_client):
    response = owner_client.get("/customers/00000000-0000-7000-8000-000000000000/")
    assert response.status_code == 404 and "Not found" in response.content.decode()
    assert owner_client.get("/customers/?cursor=not-a-cursor").status_code == 404


def test_list_pages_with_a_keyset_cursor(owner_client, workspace, monkeypatch):
    from storesync.web.views import customers as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    made = [customer_create(workspace_id=workspace.workspace.id, actor=ACTOR,
                            data=CustomerInput(email=f"c{i}@example.com")) for i in range(3)]
    first = owner_client.get("/customers/").content.decode()
    assert str(made[2].id)[-8:] in first and str(made[0].id)[-8:] not in first
    cursor = re.search(r'href="\?cursor=([^"]+)" rel="next"', first).group(1)
    second = owner_client.get(f"/customers/?cursor={cursor}").content.decode()
    assert str(made[0].id)[-8:] in second and str(made[2].id)[-8:] not in second
    assert 'rel="next"' not in second and "← Newest" in second


def test_empty_state(owner_client):
    assert "No customers yet" in owner_client.get("/customers/").content.decode()
