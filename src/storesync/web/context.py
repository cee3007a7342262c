"""Template context: the current workspace and the member's role, for every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from storesync.privacy.policies import policy_pending_notice


def workspace(request: HttpRequest) -> dict[str, Any]:
    member = getattr(request, "member", None)
    return {"member": member, "workspace": getattr(member, "workspace", None)}


def policy_notice(request: HttpRequest) -> dict[str, Any]:
    """The newest privacy-policy version the signed-in member has not acknowledged yet."""
    member = getattr(request, "member", None)
    if member is None:
        return {}
    return {"policy_notice": policy_pending_notice(workspace_id=member.workspace.id,
                                                   user_id=member.membership.user_id)}
