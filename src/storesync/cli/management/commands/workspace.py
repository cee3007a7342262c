"""``storesync workspace create|list``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from storesync.cli.common import call, keyring_ready
from storesync.core.models import Workspace
from storesync.core.services import workspace_create


class Command(BaseCommand):
    help = "Create or list workspaces."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a workspace and its owner")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--owner", required=True, metavar="EMAIL")
        create.add_argument("--country", default="IN", help="ISO 3166 code (default IN)")
        sub.add_parser("list", help="list workspaces")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        if options["action"] == "list":
            for ws in Workspace.objects.order_by("slug"):
                self.stdout.write(f"{ws.slug}\t{ws.name}\t{ws.country}\t{ws.id}")
            return
        created = call(
            lambda: workspace_create(
                slug=options["slug"],
                name=options["name"],
                owner_email=options["owner"],
                country=options["country"],
            )
        )
        self.stdout.write(
            f"workspace {created.workspace.slug} created; owner {created.owner.email}"
        )
        if created.password is None:
            self.stdout.write("the owner already had an account: sign in with its password")
        self.stdout.write(f"workspace id: {created.workspace.id}")
        if created.password is not None:
            self.stdout.write("one-time password (shown once; change it after signing in):")
            self.stdout.write(created.password)
