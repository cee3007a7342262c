"""Settings → Members, custom roles, and accepting invitations."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from storesync.core.models import Invitation, Membership, User
from storesync.core.services import invitation_create
from storesync.core.tenancy import workspace_scope
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR
from tests.web.conftest import PASSWORD


def _invite_link(owner_client, email: str, role: str = "staff") -> str:
    response = owner_client.post("/settings/members/", {"form": "invite", "email": email,
                                                         "role": role})
    assert response.status_code == 200
    link = re.search(r'id="invite-link">([^<]+)<', response.content.decode()).group(1)
    return link.split("testserver", 1)[1]


def _membership(workspace, email: str) -> Membership | None:
    with workspace_scope(workspace.workspace.id):
        return Membership.objects.filter(user__email=email).first()


def test_members_page_lists_people_and_roles(owner_client, workspace):
    html = owner_client.get("/settings/members/").content.decode()
    assert workspace.owner.email in html and ">you<" in html
    assert "No open invitations" in html and "No custom roles yet" in html


def test_invite_link_is_shown_once_and_accepting_creates_the_account(owner_client, workspace):
    path = _invite_link(owner_client, "packer@example.com")
    assert "packer@example.com" not in owner_client.get("/settings/members/").content.decode()
    newcomer = Client()
    page = newcomer.get(path).content.decode()
    assert "Acme Traders" in page and "staff" in page
    mismatch = newcomer.post(path, {"password": PASSWORD, "confirm": "other"})
    assert mismatch.status_code == 400 and "differ" in mismatch.content.decode()
    short = newcomer.post(path, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12" in short.content.decode()
    joined = newcomer.post(path, {"password": PASSWORD, "confirm": PASSWORD})
    assert joined.status_code == 302 and joined["Location"] == "/"
    assert "Acme Traders" in newcomer.get("/").content.decode()  # signed in, in the workspace
    assert _membership(workspace, "packer@example.com").role == "staff"
    assert newcomer.get(path).status_code == 404  # used once
    assert Client().login(email="packer@example.com", password=PASSWORD)


def test_existing_account_signs_in_and_accepts(owner_client, workspace, other_workspace):
    path = _invite_link(owner_client, other_workspace.owner.email, role="viewer")
    anonymous = Client().post(path, {"password": PASSWORD, "confirm": PASSWORD})
    html = anonymous.content.decode()
    assert anonymous.status_code == 400 and "sign in to accept" in html.lower()
    client = Client()
    client.force_login(other_workspace.owner)
    page = client.get(path).content.decode()
    assert other_workspace.owner.email in page and 'id="accept"' in page
    accepted = client.post(path)
    assert accepted.status_code == 302
    assert _membership(workspace, other_workspace.owner.email).role == "viewer"
    assert "Acme Traders" in client.get("/").content.decode()  # switched to the new workspace
    assert AuditEvent.objects.filter(action="member.joined",
                                     actor_id=str(other_workspace.owner.id)).exists()


def test_signed_in_as_another_email_is_refused(owner_client, workspace, other_workspace):
    path = _invite_link(owner_client, "someone-else@example.com")
    client = Client()
    client.force_login(other_workspace.owner)
    refused = client.post(path)
    html = refused.content.decode()
    assert refused.status_code == 400 and "sent to another email address" in html
    assert _membership(workspace, other_workspace.owner.email) is None
    assert client.get(path).status_code == 200  # still valid for the right person


def test_expired_and_revoked_invitations_are_refused(owner_client, workspace):
    path = _invite_link(owner_client, "late@example.com")
    with workspace_scope(workspace.workspace.id):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = Client().get(path)
    assert expired.status_code == 404 and "not valid" in expired.content.decode()
    assert Client().post(path, {"password": PASSWORD, "confirm": PASSWORD}).status_code == 404
    assert not User.objects.filter(email="late@example.com").exists()

    issued = invitation_create(workspace_id=workspace.workspace.id, email="gone@example.com",
                               role="viewer", actor=ACTOR, invited_by_id=None)
    pending = owner_client.get("/settings/members/").content.decode()
    assert str(issued.invitation.id)[-8:] in pending
    revoked = owner_client.post(f"/settings/invitations/{issued.invitation.id}/revoke",
                                follow=True)
    assert "Invitation revoked" in revoked.content.decode()
    assert Client().get(f"/invitations/{issued.token}/").status_code == 404


def test_invite_errors_are_shown_next_to_the_field(owner_client, workspace):
    owner = workspace.owner.email
    taken = owner_client.post("/settings/members/", {"form": "invite", "email": owner,
                                                     "role": "staff"})
    assert taken.status_code == 400 and "already a member" in taken.content.decode()
    bad_role = owner_client.post("/settings/members/", {"form": "invite",
                                                        "email": "x@example.com",
                                                        "role": "owner"})
    assert bad_role.status_code == 400


def test_custom_role_can_be_created_and_used_for_an_invitation(owner_client, workspace):
    created = owner_client.post("/settings/members/", {
        "form": "role", "slug": "packer", "name": "Packer",
        "permissions": ["view_orders", "manage_inventory"]})
    assert created.status_code == 302
    html = owner_client.get("/settings/members/").content.decode()
    assert "Packer (custom)" in html and "manage_inventory, view_orders" in html
    path = _invite_link(owner_client, "pack@example.com", role="packer")
    Client().post(path, {"password": PASSWORD, "confirm": PASSWORD})
    assert _membership(workspace, "pack@example.com").role == "packer"
    duplicate = owner_client.post("/settings/members/", {
        "form": "role", "slug": "packer", "name": "Again", "permissions": ["view_orders"]})
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()
    builtin = owner_client.post("/settings/members/", {
        "form": "role", "slug": "admin", "name": "Admin", "permissions": ["view_orders"]})
    assert "built-in role" in builtin.content.decode()


def test_role_change_remove_and_last_owner_protection(owner_client, workspace, member_client):
    member_client("viewer", "v@acme.example")
    viewer = _membership(workspace, "v@acme.example")
    owner_client.post(f"/settings/members/{viewer.user_id}", {"action": "role", "role": "staff"})
    assert _membership(workspace, "v@acme.example").role == "staff"
    last = owner_client.post(f"/settings/members/{workspace.owner.id}",
                             {"role": "viewer", "action": "role"}, follow=True)
    assert "at least one owner" in last.content.decode()
    owner_client.post(f"/settings/members/{viewer.user_id}", {"action": "remove"})
    assert _membership(workspace, "v@acme.example") is None


def test_members_of_another_workspace_cannot_be_changed(owner_client, other_workspace):
    response = owner_client.post(f"/settings/members/{other_workspace.owner.id}",
                                 {"action": "remove"}, follow=True)
    assert "no such member" in response.content.decode()
    with workspace_scope(other_workspace.workspace.id):
        assert Membership.objects.filter(user=other_workspace.owner).exists()


def test_only_member_managers_see_the_page(member_client):
    for role in ("manager", "staff", "viewer"):
        client = member_client(role)
        assert client.get("/settings/members/").status_code == 403, role
        assert client.post("/settings/members/", {"form": "invite", "email": "z@example.com",
                                                  "role": "viewer"}).status_code == 403
    assert member_client("admin").get("/settings/members/").status_code == 200
