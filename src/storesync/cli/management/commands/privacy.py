"""``storesync privacy retention --dry-run|--apply --workspace SLUG``: report, or apply, the
retention rules of one workspace (or all), target by target."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storesync.cli.common import keyring_ready
from storesync.core.models import Workspace
from storesync.privacy import retention
from storesync.security.audit import Actor


class Command(BaseCommand):
    help = "Privacy engine: retention sweeps."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("retention", help="delete or erase what has been kept too long")
        mode = sweep.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="report only, change nothing")
        mode.add_argument("--apply", action="store_true", help="dispose of what is due")
        sweep.add_argument("--workspace", metavar="SLUG", help="one workspace (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspaces = Workspace.objects.order_by("slug")
        if options.get("workspace"):
            workspaces = workspaces.filter(slug=options["workspace"])
            if not workspaces.exists():
                raise CommandError(f"no workspace with slug {options['workspace']!r}")
        apply = bool(options["apply"])
        for workspace in workspaces:
            reports = retention.retention_sweep(workspace_id=workspace.id, apply=apply,
                                                actor=Actor.system("cli"))
            self.stdout.write(f"{workspace.slug}: {'applied' if apply else 'dry run'}")
            for r in reports:
                if apply and r.applied:
                    what = f"{r.disposed} disposed of {r.due} due"
                elif apply:
                    what = f"{r.due} due, not applied"
                else:
                    what = f"{r.due} due"
                self.stdout.write(f"  {r.name:<28} {what:<28} {r.rule}")
