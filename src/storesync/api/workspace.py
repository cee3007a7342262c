"""``/api/v1/workspace``: what the calling token is and may do."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from storesync.api.auth import principal
from storesync.core.selectors import workspace_get

router = Router(tags=["workspace"])


class WorkspaceOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    country: str
    role: str
    permissions: list[str]


@router.get("", response=WorkspaceOut, summary="The token's workspace, role and permissions")
def get_workspace(request: HttpRequest) -> dict[str, Any]:
    who = principal(request)
    workspace = workspace_get(workspace_id=who.workspace_id)
    return {
        "id": workspace.id,
        "slug": workspace.slug,
        "name": workspace.name,
        "country": workspace.country,
        "role": who.role,
        "permissions": sorted(p.value for p in who.permissions),
    }
