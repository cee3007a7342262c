"""The business day of a workspace: which calendar day an order counts for.

Workspaces have no time-zone setting yet, so the zone follows the workspace's country where it
has a single one (India: IST); elsewhere the server's zone (UTC by default).
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone

from storesync.core.models import Workspace

COUNTRY_ZONES = {"IN": "Asia/Kolkata", "SG": "Asia/Singapore", "AE": "Asia/Dubai",
                 "GB": "Europe/London", "JP": "Asia/Tokyo"}


def business_timezone(workspace: Workspace) -> tzinfo:
    """The zone in which ``workspace``'s days begin and end."""
    name = COUNTRY_ZONES.get(workspace.country.upper())
    return ZoneInfo(name) if name else timezone.get_default_timezone()
