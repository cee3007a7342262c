"""``storesync member invite``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from storesync.cli.common import call, keyring_ready, workspace_by_slug
from storesync.core.services import invitation_create
from storesync.security.audit import Actor


class Command(BaseCommand):
    help = "Invite members."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        invite = sub.add_parser("invite", help="invite someone by email with a role")
        invite.add_argument("--workspace", required=True, metavar="SLUG")
        invite.add_argument("--email", required=True)
        invite.add_argument("--role", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspace = workspace_by_slug(options["workspace"])
        issued = call(
            lambda: invitation_create(
                workspace_id=workspace.id,
                email=options["email"],
                role=options["role"],
                actor=Actor.system("cli"),
                invited_by_id=None,
            )
        )
        self.stdout.write(f"invitation {issued.invitation.id} sent; it expires in 7 days. Link:")
        self.stdout.write(f"{settings.CONFIG.base_url}/invitations/{issued.token}/")
