"""Handing an access export to its requester: once, through an expiring secret link."""

from __future__ import annotations

import base64
import hashlib

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import NotFound
from storesync.core.tenancy import workspace_scope
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.services import SYSTEM, workspace_by_slug
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access


def export_download(*, workspace_slug: str, token: str,
                    client_ip: str = "") -> tuple[DataSubjectRequest, bytes]:
    """The ZIP for this link, which then stops working. Unknown, expired and used links are
    the same ``NotFound``; the download is audited."""
    workspace = workspace_by_slug(workspace_slug)
    digest = hashlib.sha256(token.encode()).hexdigest()
    with workspace_scope(workspace.id), transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().filter(
            export_token_sha256=digest, export__isnull=False, export_downloaded_at__isnull=True,
            export_expires_at__gt=timezone.now()).first()
        if request is None:
            raise NotFound("this download link has expired or was already used")
        with personal_data_access(actor=SYSTEM, workspace_id=workspace.id,
                                  purpose=Purpose.DATA_SUBJECT_REQUEST):
            archive = base64.b64decode(request.export or "")
        request.export = None
        request.export_downloaded_at = timezone.now()
        request.save(update_fields=["export", "export_downloaded_at"])
        audit.record(action=audit.Action.PRIVACY_EXPORT_DOWNLOADED,
                     actor=audit.Actor("requester", str(request.id)), workspace_id=workspace.id,
                     subject_type="privacy_request", subject_id=request.id,
                     detail={"bytes": len(archive), "client": client_ip[:45]})
    return request, archive
