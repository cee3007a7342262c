"""``storesync token create|list|revoke``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storesync.cli.common import call, keyring_ready, workspace_by_slug
from storesync.security.audit import Actor
from storesync.security.tokens import is_live, token_create, token_list, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token (printed once)")
        create.add_argument("--workspace", required=True, metavar="SLUG")
        create.add_argument("--role", required=True)
        create.add_argument("--name", default="cli token")
        create.add_argument("--expires-days", type=int, default=None)
        listing = sub.add_parser("list", help="list a workspace's tokens")
        listing.add_argument("--workspace", required=True, metavar="SLUG")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("--workspace", required=True, metavar="SLUG")
        revoke.add_argument("token_id")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspace = workspace_by_slug(options["workspace"])
        actor = Actor.system("cli")
        if options["action"] == "list":
            for token in token_list(workspace_id=workspace.id):
                state = "live" if is_live(token) else "revoked/expired"
                self.stdout.write(
                    f"{token.id}\t{token.name}\t{token.role}\t{state}\t"
                    f"last used {token.last_used_at or 'never'}"
                )
            return
        if options["action"] == "revoke":
            try:
                token_id = uuid.UUID(options["token_id"])
            except ValueError:
                raise CommandError("token_id is not a token id (see `token list`)") from None
            call(lambda: token_revoke(workspace_id=workspace.id, token_id=token_id, actor=actor))
            self.stdout.write(f"revoked {token_id}")
            return
        days = options["expires_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days")
        issued = call(
            lambda: token_create(
                workspace_id=workspace.id,
                name=options["name"],
                role=options["role"],
                actor=actor,
                expires_in=timedelta(days=days) if days else None,
            )
        )
        self.stdout.write(
            f"token {issued.token.id} for {workspace.slug} with role "
            f"{issued.token.role}; store it now, it is not shown again:"
        )
        self.stdout.write(issued.plaintext)
