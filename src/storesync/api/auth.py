"""Bearer-token authentication and permission checks for the REST API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from storesync.core.errors import PermissionDenied
from storesync.core.permissions import Perm
from storesync.core.roles import role_permissions
from storesync.security.audit import Actor
from storesync.security.tokens import token_authenticate

FAILED_AUTH_LIMIT = 30  # per client address per minute; then 429 until the minute passes


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API token, bound to one workspace and role."""

    workspace_id: uuid.UUID
    role: str
    permissions: frozenset[Perm]
    actor: Actor


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = f"api-auth-failures:{_client(request)}"
        if (cache.get(key) or 0) >= FAILED_AUTH_LIMIT:
            raise HttpError(429, "too many failed authentication attempts; retry in a minute")
        found = token_authenticate(token)
        if found is None:
            if cache.add(key, 1, timeout=60) is False:
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, timeout=60)
            return None
        return Principal(
            workspace_id=found.workspace_id,
            role=found.role,
            permissions=role_permissions(workspace_id=found.workspace_id, role=found.role),
            actor=Actor("token", str(found.id)),
        )


def principal(request: HttpRequest) -> Principal:
    auth = request.auth  # type: ignore[attr-defined]
    assert isinstance(auth, Principal)
    return auth


def require(request: HttpRequest, *perms: Perm) -> Principal:
    """The caller, if it holds every permission named; checked before any lookup."""
    who = principal(request)
    missing = [p for p in perms if p not in who.permissions]
    if missing:
        raise PermissionDenied(f"this token's role lacks the {missing[0].value} permission")
    return who
