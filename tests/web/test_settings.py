"""Settings → API tokens and the audit log."""

from __future__ import annotations

import re

from storesync.security.audit import Action, Actor, record
from storesync.security.models import ApiToken, AuditEvent
from storesync.security.tokens import token_authenticate, token_create
from tests.conftest import ACTOR


def test_tokens_page_shows_the_plaintext_once_and_it_works(owner_client):
    created = owner_client.post("/settings/tokens/", {"name": "shop sync", "role": "manager"})
    assert created["Cache-Control"] == "no-store"
    token = re.search(r'id="token">(sst_[^<]+)<', created.content.decode()).group(1)
    assert token_authenticate(token) is not None
    again = owner_client.get("/settings/tokens/").content.decode()
    assert token not in again and "shop sync" in again and "live" in again


def test_token_form_errors_are_shown(owner_client):
    response = owner_client.post("/settings/tokens/", {"name": "", "role": "manager"})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    unknown = owner_client.post("/settings/tokens/", {"name": "x", "role": "emperor"})
    assert unknown.status_code == 400


def test_revoking_a_token_stops_it(owner_client, workspace):
    issued = token_create(workspace_id=workspace.workspace.id, name="old", role="viewer",
                          actor=ACTOR)
    response = owner_client.post(f"/settings/tokens/{issued.token.id}/revoke", follow=True)
    assert "Token revoked" in response.content.decode()
    assert token_authenticate(issued.plaintext) is None
    assert AuditEvent.objects.filter(action="token.revoked",
                                     subject_id=str(issued.token.id)).exists()


def test_another_workspaces_token_cannot_be_revoked(owner_client, other_workspace):
    issued = token_create(workspace_id=other_workspace.workspace.id, name="theirs",
                          role="viewer", actor=ACTOR)
    assert owner_client.post(f"/settings/tokens/{issued.token.id}/revoke").status_code == 404
    assert token_authenticate(issued.plaintext) is not None
    assert "theirs" not in owner_client.get("/settings/tokens/").content.decode()


def test_tokens_need_the_manage_tokens_permission(member_client, workspace):
    manager = member_client("manager")
    assert manager.get("/settings/tokens/").status_code == 403
    assert manager.post("/settings/tokens/", {"name": "x", "role": "owner"}).status_code == 403
    from storesync.core.tenancy import workspace_scope
    with workspace_scope(workspace.workspace.id):
        assert not ApiToken.objects.exists()


def test_audit_page_lists_the_workspaces_events_newest_first(owner_client, workspace,
                                                             other_workspace, customer):
    owner_client.post(f"/customers/{customer.id}/reveal", {"purpose": "customer_support"})
    html = owner_client.get("/settings/audit/").content.decode()
    for action in ("workspace.created", "member.joined", "customer.created",
                   "personal_data.read"):
        assert action in html
    assert html.index("personal_data.read") < html.index("workspace.created")
    assert workspace.owner.email in html  # actor shown by name
    assert "customer_support" in html and "customer.email" in html
    assert "globex" not in html and str(other_workspace.workspace.id)[-8:] not in html


def test_audit_pages_with_a_keyset_cursor(owner_client, workspace, monkeypatch):
    from storesync.web.views import audit

    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    for n in range(3):
        record(action=Action.ROLE_CREATED, actor=Actor.system("test"),
               workspace_id=workspace.workspace.id, subject_type="role", subject_id=f"r{n}")
    first = owner_client.get("/settings/audit/").content.decode()
    before = re.search(r'href="\?before=(\d+)" rel="next"', first).group(1)
    second = owner_client.get(f"/settings/audit/?before={before}").content.decode()
    firsts = set(re.findall(r"<tr>\s*<td>(\d+)</td>", first))
    seconds = set(re.findall(r"<tr>\s*<td>(\d+)</td>", second))
    assert len(firsts) == 2 and len(seconds) == 2 and not firsts & seconds
    assert owner_client.get("/settings/audit/?before=abc").status_code == 404


def test_audit_needs_the_view_audit_permission(member_client):
    assert member_client("manager").get("/settings/audit/").status_code == 403
    assert member_client("admin").get("/settings/audit/").status_code == 200
