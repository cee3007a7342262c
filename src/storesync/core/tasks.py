"""Background jobs of the core app."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import send_mail
from huey.contrib.djhuey import db_task

from storesync.core.models import Invitation, Workspace
from storesync.core.tenancy import workspace_scope
from storesync.security.access import personal_data_access
from storesync.security.audit import Actor


@db_task(retries=5, retry_delay=30)
def send_invitation(workspace_id: str, invitation_id: str, token: str) -> None:
    """Email the invitation link. Retried: an SMTP outage delays the mail, never loses it."""
    wid = uuid.UUID(workspace_id)
    with workspace_scope(wid):
        invitation = Invitation.objects.filter(id=invitation_id).first()
        if invitation is None or invitation.accepted_at or invitation.revoked_at:
            return
        workspace = Workspace.objects.get(id=wid)
        with personal_data_access(
            actor=Actor.system("mailer"), workspace_id=wid, purpose="invitation"
        ):
            recipient = invitation.email
    link = f"{settings.CONFIG.base_url}/invitations/{token}/"
    send_mail(
        subject=f"You are invited to {workspace.name} on storesync",
        message=(
            f"You have been invited to join {workspace.name} as {invitation.role}.\n\n"
            f"Accept within 7 days: {link}\n\nIf you did not expect this, ignore this email."
        ),
        from_email=None,
        recipient_list=[recipient],
    )
