"""Writes for workspaces, accounts, memberships, roles and invitations."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Invitation, Membership, Role, User, Workspace, normalise_email
from storesync.core.permissions import BUILTIN_ROLES, parse_permissions
from storesync.core.roles import role_permissions
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address
from storesync.security import audit, keyring
from storesync.security.access import personal_data_access

INVITATION_TTL = timedelta(days=7)


@dataclass(frozen=True)
class CreatedWorkspace:
    workspace: Workspace
    owner: User
    password: str | None  # set when the owner's account was created here; shown once


def _validate_slug(slug: str) -> str:
    clean = slugify(slug)
    if not clean or clean != slug or len(slug) > 50:
        raise ValidationError(
            "a workspace slug is 1-50 lowercase letters, digits and hyphens", field="slug"
        )
    return clean


def workspace_create(
    *, slug: str, name: str, owner_email: str, country: str = "IN", actor: audit.Actor | None = None
) -> CreatedWorkspace:
    """Create a workspace, its data key and its owner (a new account gets a one-time password)."""
    slug = _validate_slug(slug)
    if not name.strip():
        raise ValidationError("a workspace needs a name", field="name")
    email = validate_email_address(owner_email, field="owner")
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("country is a two-letter ISO 3166 code", field="country")
    actor = actor or audit.Actor.system("cli")
    try:
        with transaction.atomic():
            workspace = Workspace.objects.create(
                slug=slug, name=name.strip(), country=country.upper()
            )
            keyring.get().create_data_key(workspace.id)
            owner = User.objects.filter(email=email).first()
            password = None
            if owner is None:
                password = secrets.token_urlsafe(12)
                owner = User.objects.create_user(email, password)
            with workspace_scope(workspace.id):
                Membership.objects.create(workspace=workspace, user=owner, role="owner")
                audit.record(
                    action=audit.Action.WORKSPACE_CREATED,
                    actor=actor,
                    workspace_id=workspace.id,
                    subject_type="workspace",
                    subject_id=workspace.id,
                    detail={"slug": slug},
                )
                audit.record(
                    action=audit.Action.MEMBER_JOINED,
                    actor=actor,
                    workspace_id=workspace.id,
                    subject_type="user",
                    subject_id=owner.id,
                    detail={"role": "owner"},
                )
    except IntegrityError:
        raise Conflict(f"a workspace with slug {slug!r} already exists", field="slug") from None
    return CreatedWorkspace(workspace, owner, password)


def role_create(
    *, workspace_id: uuid.UUID, slug: str, name: str, permissions: list[str], actor: audit.Actor
) -> Role:
    if slug in BUILTIN_ROLES:
        raise ValidationError(f"{slug!r} is a built-in role", field="slug")
    if not slug or slugify(slug) != slug:
        raise ValidationError("a role slug is lowercase letters, digits and hyphens", field="slug")
    try:
        perms = parse_permissions(permissions)
    except ValueError as exc:
        raise ValidationError(str(exc), field="permissions") from None
    with workspace_scope(workspace_id), transaction.atomic():
        if Role.objects.filter(slug=slug).exists():
            raise Conflict(f"role {slug!r} already exists", field="slug")
        role = Role.objects.create(
            workspace_id=workspace_id, slug=slug, name=name or slug, permissions=sorted(perms)
        )
        audit.record(
            action=audit.Action.ROLE_CREATED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="role",
            subject_id=role.id,
            detail={"slug": slug, "permissions": sorted(perms)},
        )
    return role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # goes into the link /invitations/<token>/; shown once


def invitation_create(
    *,
    workspace_id: uuid.UUID,
    email: str,
    role: str,
    actor: audit.Actor,
    invited_by_id: uuid.UUID | None,
) -> IssuedInvitation:
    """Invite someone by email to join with ``role``; the email is sent after commit."""
    address = validate_email_address(email, field="email")
    role_permissions(workspace_id=workspace_id, role=role)
    if role == "owner":
        raise ValidationError("ownership is transferred, not granted by invitation", field="role")
    token = secrets.token_urlsafe(32)
    with workspace_scope(workspace_id), transaction.atomic():
        if Membership.objects.filter(user__email=address).exists():
            raise Conflict("that person is already a member", field="email")
        invitation = Invitation.objects.create(
            workspace_id=workspace_id,
            email=address,
            role=role,
            token_sha256=_token_hash(token),
            invited_by_id=invited_by_id,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        audit.record(
            action=audit.Action.MEMBER_INVITED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="invitation",
            subject_id=invitation.id,
            detail={"role": role},
        )
        from storesync.core.tasks import send_invitation

        transaction.on_commit(lambda: send_invitation(str(workspace_id), str(invitation.id), token))
    return IssuedInvitation(invitation, token)


def invitation_find(token: str) -> Invitation:
    """The live invitation a link's token stands for, or NotFound (expired, used, revoked)."""
    from storesync.core.tenancy import system_scope

    with system_scope():
        invitation = (
            Invitation.objects.select_related("workspace")
            .filter(token_sha256=_token_hash(token))
            .first()
        )
    if (
        invitation is None
        or invitation.accepted_at
        or invitation.revoked_at
        or invitation.expires_at <= timezone.now()
    ):
        raise NotFound("this invitation is not valid any more")
    return invitation


def invitation_accept(
    *, token: str, user: User | None = None, password: str | None = None
) -> Membership:
    """Join the workspace: as the signed-in ``user``, or as a new account with ``password``.

    The invitation is bound to its email address: the account that accepts must have it.
    """
    invitation = invitation_find(token)
    workspace_id = invitation.workspace_id
    actor = audit.Actor.system("invitation")
    with workspace_scope(workspace_id), transaction.atomic():
        with personal_data_access(actor=actor, workspace_id=workspace_id, purpose="invitation"):
            invited_email = normalise_email(invitation.email or "")
        if user is None:
            if User.objects.filter(email=invited_email).exists():
                raise Conflict(
                    "an account with this email exists: sign in to accept", field="email"
                )
            if not password:
                raise ValidationError("choose a password", field="password")
            from django.contrib.auth.password_validation import validate_password
            from django.core.exceptions import ValidationError as DjangoValidationError

            try:
                validate_password(password)
            except DjangoValidationError as exc:
                raise ValidationError(" ".join(exc.messages), field="password") from None
            user = User.objects.create_user(invited_email, password)
        elif normalise_email(user.email) != invited_email:
            raise ValidationError(
                "this invitation was sent to another email address", field="email"
            )
        updated = Invitation.objects.filter(id=invitation.id, accepted_at__isnull=True).update(
            accepted_at=timezone.now()
        )
        if not updated:
            raise NotFound("this invitation is not valid any more")
        membership, _ = Membership.objects.get_or_create(
            workspace_id=workspace_id, user=user, defaults={"role": invitation.role}
        )
        audit.record(
            action=audit.Action.MEMBER_JOINED,
            actor=audit.Actor("user", str(user.id)),
            workspace_id=workspace_id,
            subject_type="user",
            subject_id=user.id,
            detail={"role": membership.role, "invitation": str(invitation.id)},
        )
    return membership


def invitation_revoke(
    *, workspace_id: uuid.UUID, invitation_id: uuid.UUID, actor: audit.Actor
) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        if not Invitation.objects.filter(id=invitation_id, accepted_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            raise NotFound("no such open invitation")
        audit.record(
            action=audit.Action.INVITATION_REVOKED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="invitation",
            subject_id=invitation_id,
        )


def _owners_left(exclude_user_id: uuid.UUID) -> int:
    return Membership.objects.filter(role="owner").exclude(user_id=exclude_user_id).count()


def membership_set_role(
    *, workspace_id: uuid.UUID, user_id: uuid.UUID, role: str, actor: audit.Actor
) -> Membership:
    role_permissions(workspace_id=workspace_id, role=role)
    with workspace_scope(workspace_id), transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user_id=user_id).first()
        if membership is None:
            raise NotFound("no such member")
        if membership.role == "owner" and role != "owner" and not _owners_left(user_id):
            raise Conflict("a workspace keeps at least one owner", field="role")
        previous, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        audit.record(
            action=audit.Action.MEMBER_ROLE_CHANGED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="user",
            subject_id=user_id,
            detail={"from": previous, "to": role},
        )
    return membership


def membership_remove(*, workspace_id: uuid.UUID, user_id: uuid.UUID, actor: audit.Actor) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user_id=user_id).first()
        if membership is None:
            raise NotFound("no such member")
        if membership.role == "owner" and not _owners_left(user_id):
            raise Conflict("a workspace keeps at least one owner", field="user")
        membership.delete()
        audit.record(
            action=audit.Action.MEMBER_REMOVED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="user",
            subject_id=user_id,
        )
