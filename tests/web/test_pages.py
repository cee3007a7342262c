from __future__ import annotations

import re

import pytest
from django.test import Client

from storesync.core.services import invitation_accept, invitation_create
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR
from tests.web.conftest import enrol_totp

PAGES = ["/", "/customers/", "/settings/members/", "/settings/tokens/", "/settings/audit/", "/w/"]


def _member(workspace, role: str, email: str, *, totp: bool = True) -> Client:
    issued = invitation_create(workspace_id=workspace.workspace.id, email=email, role=role,
                               actor=ACTOR, invited_by_id=None)
    membership = invitation_accept(token=issued.token, password="a-long-pass-phrase-9")
    if totp:
        enrol_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    return client


def test_pages_render_with_strict_csp_and_no_inline_code(owner_client, customer):
    for path in [*PAGES, f"/customers/{customer.id}/"]:
        response = owner_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html, path


def test_anonymous_visitors_are_sent_to_sign_in(db):
    for path in PAGES:
        response = Client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_members_without_totp_must_enrol_before_personal_data(workspace, customer):
    client = Client()
    client.force_login(workspace.owner)
    for path in ("/customers/", f"/customers/{customer.id}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/totp/activate/")
    assert client.get("/").status_code == 200  # pages without personal data stay open


def test_list_is_masked_and_reveal_is_audited(owner_client, workspace, customer):
    listing = owner_client.get("/customers/").content.decode()
    detail = owner_client.get(f"/customers/{customer.id}/").content.decode()
    for html in (listing, detail):
        assert "zenobia" not in html.lower() and "9812345671" not in html
    revealed = owner_client.post(f"/customers/{customer.id}/reveal",
                                 {"purpose": "customer_support"})
    assert "zenobia.quill@example.com" in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="personal_data.read", subject_id=str(customer.id))
    assert (event.actor_type, event.actor_id) == ("user", str(workspace.owner.id))
    assert event.purpose == "customer_support" and "customer.email" in event.fields


def test_exact_lookup_by_email(owner_client, customer):
    found = owner_client.get("/customers/?email=ZENOBIA.QUILL@example.com").content.decode()
    assert str(customer.id)[-8:] in found
    missing = owner_client.get("/customers/?email=nobody@example.com").content.decode()
    assert str(customer.id)[-8:] not in missing


def test_viewer_sees_masked_customers_but_cannot_reveal(workspace, customer):
    viewer = _member(workspace, "viewer", "viewer@example.com", totp=False)
    assert viewer.get("/customers/").status_code == 200  # no personal data: no MFA needed
    assert viewer.post(f"/customers/{customer.id}/reveal",
                       {"purpose": "customer_support"}).status_code == 403
    assert viewer.get("/customers/?email=zenobia.quill@example.com").status_code == 403
    assert viewer.get("/settings/members/").status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data.read",
                                         subject_type="customer").exists()


def test_other_workspaces_customers_are_not_found(workspace, other_workspace, customer):
    enrol_totp(other_workspace.owner)
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    assert intruder.get(f"/customers/{customer.id}/").status_code == 404
    assert intruder.post(f"/customers/{customer.id}/reveal",
                         {"purpose": "customer_support"}).status_code == 404
    assert str(customer.id)[-8:] not in intruder.get("/customers/").content.decode()


def test_invite_from_the_members_page_and_accept_with_a_new_account(owner_client, workspace):
    response = owner_client.post("/settings/members/", {"form": "invite",
                                                         "email": "packer@example.com",
                                                         "role": "staff"})
    link = re.search(r'id="invite-link">([^<]+)<', response.content.decode()).group(1)
    path = link.split("testserver", 1)[1]
    newcomer = Client()
    page = newcomer.get(path)
    assert "Acme Traders" in page.content.decode()
    mismatch = newcomer.post(path, {"password": "a-long-pass-phrase-9", "confirm": "other"})
    assert "differ" in mismatch.content.decode()
    joined = newcomer.post(path, {"password": "a-long-pass-phrase-9",
                                  "confirm": "a-long-pass-phrase-9"})
    assert joined.status_code == 302
    assert newcomer.get("/").status_code == 200
    assert newcomer.get(path).status_code == 404  # used once


def test_member_role_change_and_last_owner_protection(owner_client, workspace):
    owner_id = workspace.owner.id
    response = owner_client.post(f"/settings/members/{owner_id}", {"role": "viewer",
                                                                   "action": "role"},
                                 follow=True)
    assert "at least one owner" in response.content.decode()


def test_tokens_page_shows_the_token_once(owner_client):
    created = owner_client.post("/settings/tokens/", {"name": "shop sync", "role": "manager"})
    token = re.search(r'id="token">(sst_[^<]+)<', created.content.decode()).group(1)
    again = owner_client.get("/settings/tokens/").content.decode()
    assert token not in again and "shop sync" in again


def test_audit_page_lists_events(owner_client):
    html = owner_client.get("/settings/audit/").content.decode()
    assert "workspace.created" in html and "member.joined" in html


def test_workspace_switcher_keeps_members_in_their_workspaces(workspace, other_workspace):
    from storesync.core.services import workspace_create
    second = workspace_create(slug="acme-east", name="Acme East",
                              owner_email=workspace.owner.email)
    assert second.password is None
    client = Client()
    client.force_login(workspace.owner)
    assert client.post("/w/acme-east/").status_code == 302
    assert "Acme East" in client.get("/").content.decode()
    assert client.post("/w/globex/").status_code == 404  # not a member there


@pytest.mark.parametrize("path", ["/customers/00000000-0000-0000-0000-000000000000/"])
def test_unknown_ids_are_404_pages(owner_client, path):
    response = owner_client.get(path)
    assert response.status_code == 404


def test_real_sign_in_asks_for_the_second_factor(workspace):
    totp = enrol_totp(workspace.owner)
    client = Client()
    step1 = client.post("/accounts/login/", {"login": workspace.owner.email,
                                             "password": workspace.password})
    assert step1.status_code == 302 and "/2fa/authenticate" in step1["Location"]
    assert client.get("/customers/").status_code == 302  # not signed in yet
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    step2 = client.post("/accounts/2fa/authenticate/", {"code": totp.now()})
    assert step2.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_totp_enrolment_from_the_activation_page(workspace):
    import pyotp

    from storesync.web.membership import has_totp
    client = Client()
    client.force_login(workspace.owner)
    # Enrolling is a sensitive change: allauth asks for the password again first.
    gate = client.get("/accounts/2fa/totp/activate/")
    assert gate.status_code == 302 and "/accounts/reauthenticate/" in gate["Location"]
    client.post("/accounts/reauthenticate/", {"password": workspace.password})
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r'value="([A-Z2-7]{16,})"', page)
    code = pyotp.TOTP(secret.group(1)).now()
    done = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert done.status_code == 302
    assert has_totp(workspace.owner)
    from allauth.mfa.models import Authenticator
    stored = Authenticator.objects.get(user=workspace.owner, type="totp").data["secret"]
    assert stored.startswith("enc1:") and secret.group(1) not in stored
