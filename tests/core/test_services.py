from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from storesync.core import services
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Invitation, Membership, User
from storesync.core.roles import role_permissions
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.security.audit import Actor
from storesync.security.models import AuditEvent

ACTOR = Actor.system("test")


def test_workspace_create_makes_owner_key_and_audit(workspace):
    ws = workspace.workspace
    assert workspace.password and workspace.owner.check_password(workspace.password)
    with workspace_scope(ws.id):
        assert Membership.objects.get().role == "owner"
    actions = set(AuditEvent.objects.filter(chain=str(ws.id)).values_list("action", flat=True))
    assert {"workspace.created", "member.joined"} <= actions


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"name": "  "}, "name"),
        ({"owner_email": "not-an-email"}, "owner"),
        ({"country": "India"}, "country"),
    ],
)
def test_workspace_create_names_the_bad_field(db, kwargs, field):
    args = {"slug": "shop", "name": "Shop", "owner_email": "o@shop.example", **kwargs}
    with pytest.raises(ValidationError) as err:
        services.workspace_create(**args)
    assert err.value.field == field
    with system_scope():
        assert not Membership.objects.exists()


def test_duplicate_slug_is_a_conflict_and_writes_nothing(workspace):
    with pytest.raises(Conflict):
        services.workspace_create(slug="acme", name="Again", owner_email="new@x.example")
    assert not User.objects.filter(email="new@x.example").exists()


def test_existing_user_becomes_owner_without_new_password(workspace):
    again = services.workspace_create(
        slug="acme-two", name="Two", owner_email=workspace.owner.email
    )
    assert again.password is None and again.owner == workspace.owner


def test_invitation_flow_new_account(workspace, django_capture_on_commit_callbacks):
    ws = workspace.workspace.id
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.invitation_create(
            workspace_id=ws,
            email="Staffer@Example.com",
            role="staff",
            actor=ACTOR,
            invited_by_id=None,
        )
    assert len(mail.outbox) == 1
    assert issued.token in mail.outbox[0].body
    assert mail.outbox[0].to == ["staffer@example.com"]
    with pytest.raises(ValidationError) as err:
        services.invitation_accept(token=issued.token, password="short")
    assert err.value.field == "password"
    membership = services.invitation_accept(token=issued.token, password="a-long-pass-phrase-9")
    assert membership.role == "staff"
    assert User.objects.get(email="staffer@example.com").check_password("a-long-pass-phrase-9")
    with pytest.raises(NotFound):  # used once
        services.invitation_accept(token=issued.token, password="a-long-pass-phrase-9")


def test_invitation_is_bound_to_its_email(workspace, other_workspace):
    issued = services.invitation_create(
        workspace_id=workspace.workspace.id,
        email="someone@example.com",
        role="viewer",
        actor=ACTOR,
        invited_by_id=None,
    )
    with pytest.raises(ValidationError):
        services.invitation_accept(token=issued.token, user=other_workspace.owner)


def test_expired_and_revoked_invitations_are_refused(workspace):
    ws = workspace.workspace.id
    issued = services.invitation_create(
        workspace_id=ws, email="late@example.com", role="viewer", actor=ACTOR, invited_by_id=None
    )
    with workspace_scope(ws):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(NotFound):
        services.invitation_accept(token=issued.token, password="a-long-pass-phrase-9")
    second = services.invitation_create(
        workspace_id=ws, email="gone@example.com", role="viewer", actor=ACTOR, invited_by_id=None
    )
    services.invitation_revoke(workspace_id=ws, invitation_id=second.invitation.id, actor=ACTOR)
    with pytest.raises(NotFound):
        services.invitation_accept(token=second.token, password="a-long-pass-phrase-9")


def test_invitation_rejects_owner_role_and_unknown_role(workspace):
    for role in ("owner", "superhero"):
        with pytest.raises(ValidationError) as err:
            services.invitation_create(
                workspace_id=workspace.workspace.id,
                email="x@example.com",
                role=role,
                actor=ACTOR,
                invited_by_id=None,
            )
        assert err.value.field == "role"


def test_custom_role_grants_exactly_its_permissions(workspace):
    ws = workspace.workspace.id
    services.role_create(
        workspace_id=ws,
        slug="packer",
        name="Packer",
        permissions=["view_orders", "manage_orders"],
        actor=ACTOR,
    )
    assert {p.value for p in role_permissions(workspace_id=ws, role="packer")} == {
        "view_orders",
        "manage_orders",
    }
    with pytest.raises(ValidationError) as err:
        services.role_create(
            workspace_id=ws, slug="bad", name="Bad", permissions=["root"], actor=ACTOR
        )
    assert err.value.field == "permissions"
    with pytest.raises(ValidationError):
        services.role_create(workspace_id=ws, slug="admin", name="x", permissions=[], actor=ACTOR)


def test_last_owner_cannot_be_demoted_or_removed(workspace):
    ws, owner = workspace.workspace.id, workspace.owner.id
    with pytest.raises(Conflict):
        services.membership_set_role(workspace_id=ws, user_id=owner, role="admin", actor=ACTOR)
    with pytest.raises(Conflict):
        services.membership_remove(workspace_id=ws, user_id=owner, actor=ACTOR)


def test_role_change_is_audited(workspace):
    ws = workspace.workspace.id
    issued = services.invitation_create(
        workspace_id=ws, email="m@example.com", role="viewer", actor=ACTOR, invited_by_id=None
    )
    member = services.invitation_accept(token=issued.token, password="a-long-pass-phrase-9")
    services.membership_set_role(
        workspace_id=ws, user_id=member.user_id, role="manager", actor=ACTOR
    )
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.detail == {"from": "viewer", "to": "manager"}
