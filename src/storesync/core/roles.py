"""Resolving a role name to permissions: built-in roles first, then the workspace's own."""

from __future__ import annotations

import uuid

from storesync.core.errors import ValidationError
from storesync.core.models import Role
from storesync.core.permissions import BUILTIN_ROLES, Perm
from storesync.core.tenancy import workspace_scope

_KNOWN = {p.value for p in Perm}


def role_permissions(*, workspace_id: uuid.UUID, role: str) -> frozenset[Perm]:
    """The permissions of ``role`` in the workspace; ``ValidationError`` if no such role."""
    if role in BUILTIN_ROLES:
        return BUILTIN_ROLES[role]
    with workspace_scope(workspace_id):
        custom = Role.objects.filter(slug=role).values_list("permissions", flat=True).first()
    if custom is None:
        known = ", ".join([*BUILTIN_ROLES, "or a custom role"])
        raise ValidationError(f"unknown role {role!r} (one of {known})", field="role")
    return frozenset(Perm(p) for p in custom if p in _KNOWN)
