"""Reads for workspaces and memberships."""

from __future__ import annotations

import uuid

from storesync.core.errors import NotFound
from storesync.core.models import Membership, User, Workspace
from storesync.core.tenancy import system_scope


def workspace_get(*, workspace_id: uuid.UUID) -> Workspace:
    workspace = Workspace.objects.filter(id=workspace_id).first()
    if workspace is None:
        raise NotFound("no such workspace")
    return workspace


def memberships_of(*, user: User) -> list[Membership]:
    """Every workspace a person belongs to (for the workspace switcher), oldest first."""
    with system_scope():
        return list(
            Membership.objects.filter(user=user).select_related("workspace").order_by("created_at")
        )
