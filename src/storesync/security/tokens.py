"""API tokens: ``sst_<prefix>_<secret>``, shown once, stored as SHA-256 of the secret.

The secret has 256 bits of entropy, so a fast hash is enough (no password stretching needed)
and the lookup by prefix keeps authentication to one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.security import audit
from storesync.security.models import ApiToken

PREFIX = "sst"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    workspace_id: uuid.UUID,
    name: str,
    role: str,
    actor: audit.Actor,
    created_by_id: uuid.UUID | None = None,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Issue a token for a workspace and role; the plaintext is returned once, never stored."""
    from storesync.core.roles import role_permissions  # the role must exist in this workspace

    if not name.strip():
        raise ValidationError("a token needs a name", field="name")
    with workspace_scope(workspace_id), transaction.atomic():
        role_permissions(workspace_id=workspace_id, role=role)
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            workspace_id=workspace_id,
            name=name.strip(),
            role=role,
            prefix=prefix,
            secret_sha256=_sha256(secret),
            created_by_id=created_by_id,
            expires_at=timezone.now() + expires_in if expires_in else None,
        )
        audit.record(
            action=audit.Action.TOKEN_CREATED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="api_token",
            subject_id=token.id,
            detail={"name": token.name, "role": role},
        )
    return IssuedToken(token, f"{PREFIX}_{prefix}_{secret}")


def token_revoke(*, workspace_id: uuid.UUID, token_id: uuid.UUID, actor: audit.Actor) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        updated = ApiToken.objects.filter(id=token_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit.record(
                action=audit.Action.TOKEN_REVOKED,
                actor=actor,
                workspace_id=workspace_id,
                subject_type="api_token",
                subject_id=token_id,
            )


def token_authenticate(presented: str) -> ApiToken | None:
    """The live token ``presented`` stands for, or None (same cost whether or not it exists)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    with system_scope():  # the token tells us the workspace; nothing else is read here
        token = ApiToken.objects.filter(prefix=parts[1]).first()
    digest = _sha256(parts[2])
    if token is None:
        hmac.compare_digest(digest, "0" * 64)  # keep timing alike for unknown prefixes
        return None
    if not hmac.compare_digest(digest, token.secret_sha256):
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        with system_scope():
            ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token


def token_list(*, workspace_id: uuid.UUID) -> list[ApiToken]:
    with workspace_scope(workspace_id):
        return list(ApiToken.objects.order_by("-created_at"))


def is_live(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)
