"""Template context: the current workspace and the member's role, for every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    member = getattr(request, "member", None)
    return {"member": member, "workspace": getattr(member, "workspace", None)}
