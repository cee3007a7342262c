"""``storesync audit verify``: prove the hash chains intact, or name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storesync.cli.common import keyring_ready
from storesync.core.models import Workspace
from storesync.core.tenancy import system_scope
from storesync.security import audit


class Command(BaseCommand):
    help = "Verify the audit log."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check every chain (exit 1 on a broken one)")
        verify.add_argument("--workspace", metavar="SLUG", help="only this workspace's chain")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        names = {str(w.id): w.slug for w in Workspace.objects.all()}
        chains = None
        if options.get("workspace"):
            found = [cid for cid, slug in names.items() if slug == options["workspace"]]
            if not found:
                raise CommandError(f"no workspace with slug {options['workspace']!r}")
            chains = found
        broken = 0
        with system_scope():
            for report in audit.verify_and_record(chains):
                label = names.get(report.chain, report.chain)
                if report.ok:
                    self.stdout.write(f"ok      {label}: {report.events} events, chain intact")
                else:
                    broken += 1
                    self.stdout.write(f"BROKEN  {label}: {report.problem}")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken")
        self.stdout.write("audit log verified: every chain intact")
