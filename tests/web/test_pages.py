"""Every page: strict CSP, no inline code, our layout; dashboard; workspace switcher; errors."""

from __future__ import annotations

import pytest
from django.test import Client

from storesync.core.services import workspace_create
from tests.web.conftest import assert_no_inline_code, enrol_totp

STAFF_PAGES = ["/", "/customers/", "/settings/members/", "/settings/tokens/", "/settings/audit/",
               "/w/", "/w/acme/"]
ACCOUNT_PAGES = ["/accounts/2fa/", "/accounts/2fa/recovery-codes/",
                 "/accounts/2fa/recovery-codes/generate/", "/accounts/password/change/"]
PUBLIC_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


def _check(response, path: str) -> str:
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, path
    assert "/static/storesync/app.css" in html, path
    assert_no_inline_code(html, path)
    return html


def test_staff_pages_render_with_strict_csp_and_no_inline_code(owner_client, customer):
    for path in [*STAFF_PAGES, f"/customers/{customer.id}/"]:
        response = owner_client.get(path)
        assert response.status_code == 200, path
        _check(response, path)
    revealed = owner_client.post(f"/customers/{customer.id}/reveal",
                                 {"purpose": "customer_support"})
    _check(revealed, "reveal")


def test_account_pages_use_our_layout(workspace):
    client = Client()
    for path in PUBLIC_PAGES:
        _check(client.get(path), path)
    enrol_totp(workspace.owner)
    client.force_login(workspace.owner)
    client.post("/accounts/reauthenticate/", {"password": workspace.password})
    client.post("/accounts/2fa/recovery-codes/generate/")
    for path in ACCOUNT_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'class="card narrow allauth"' in _check(response, path), path


def test_error_pages_use_our_layout(owner_client, member_client):
    missing = owner_client.get("/no/such/page")
    assert missing.status_code == 404
    assert "Not found" in _check(missing, "404")
    viewer = member_client("viewer", totp=False)
    denied = viewer.get("/settings/tokens/")
    assert denied.status_code == 403
    assert "lacks the “manage_tokens” permission" in _check(denied, "403")


def test_dashboard_shows_the_workspace_and_its_counts(owner_client, customer, member_client):
    member_client("viewer")
    html = owner_client.get("/").content.decode()
    assert "<h1>Acme Traders</h1>" in html
    assert 'id="count-customers">1<' in html and 'id="count-members">2<' in html
    for link in ("/customers/", "/settings/members/", "/settings/tokens/", "/settings/audit/"):
        assert f'href="{link}"' in html


def test_navigation_follows_the_role(member_client):
    html = member_client("viewer").get("/").content.decode()
    assert 'href="/customers/"' in html
    assert 'href="/settings/members/"' not in html and 'href="/settings/audit/"' not in html


def test_workspace_switcher_keeps_members_in_their_workspaces(workspace, other_workspace):
    second = workspace_create(slug="acme-east", name="Acme East",
                              owner_email=workspace.owner.email)
    assert second.password is None
    client = Client()
    client.force_login(workspace.owner)
    listing = client.get("/w/").content.decode()
    assert "Acme Traders" in listing and "Acme East" in listing and "Globex" not in listing
    confirm = client.get("/w/acme-east/")
    assert confirm.status_code == 200 and "Switch to Acme East?" in confirm.content.decode()
    assert "<h1>Acme Traders</h1>" in client.get("/").content.decode()  # GET changed nothing
    assert client.post("/w/acme-east/").status_code == 302
    assert "<h1>Acme East</h1>" in client.get("/").content.decode()
    assert client.get("/w/globex/").status_code == 404  # not a member there
    assert client.post("/w/globex/").status_code == 404
    assert "<h1>Acme East</h1>" in client.get("/").content.decode()


def test_a_removed_membership_falls_back_to_another_workspace(workspace):
    from storesync.core.services import membership_remove
    from tests.conftest import ACTOR

    second = workspace_create(slug="acme-east", name="Acme East",
                              owner_email="boss@acme.example")
    from storesync.core.services import invitation_accept, invitation_create
    issued = invitation_create(workspace_id=second.workspace.id, email=workspace.owner.email,
                               role="viewer", actor=ACTOR, invited_by_id=None)
    invitation_accept(token=issued.token, user=workspace.owner)
    client = Client()
    client.force_login(workspace.owner)
    client.post("/w/acme-east/")
    membership_remove(workspace_id=second.workspace.id, user_id=workspace.owner.id, actor=ACTOR)
    assert "<h1>Acme Traders</h1>" in client.get("/").content.decode()


@pytest.mark.parametrize("path", ["/static/storesync/app.css", "/static/storesync/app.js"])
def test_own_static_files_are_served(db, path):
    response = Client().get(path)
    assert response.status_code == 200


def test_times_are_labelled_with_the_zone_they_are_shown_in(owner_client):
    """Staff pages show times in the workspace's business zone (India here): the column
    headings name that zone, never a UTC it is not."""
    html = owner_client.get("/settings/audit/").content.decode()
    assert "When (Asia/Kolkata)" in html and "(UTC)" not in html
