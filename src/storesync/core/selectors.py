"""Reads for workspaces and memberships."""

from __future__ import annotations

import uuid

from django.core.paginator import Page, Paginator

from storesync.core.errors import NotFound
from storesync.core.models import Membership, User, Workspace
from storesync.core.tenancy import system_scope, workspace_scope


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


def membership_page(*, workspace_id: uuid.UUID, number: str | int | None,
                    size: int) -> Page:
    """One page of a workspace's members with their users, oldest first.

    The rows are fetched inside the scope: a lazy page evaluated later (in a template) would
    run outside it, where PostgreSQL's row-level security shows no rows at all.
    """
    with workspace_scope(workspace_id):
        page = Paginator(Membership.objects.select_related("user").order_by("created_at"),
                         size).get_page(number)
        page.object_list = list(page.object_list)
    return page
