"""``storesync keys rotate``: new data keys, everything re-encrypted, old keys destroyed."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from storesync.cli.common import call, keyring_ready
from storesync.core.models import Workspace
from storesync.security import rotation


class Command(BaseCommand):
    help = "Rotate data keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="rotate every workspace's data key (online)")
        rotate.add_argument("--workspace", metavar="SLUG", help="only this workspace")
        rotate.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        targets = rotation.workspaces_to_rotate()
        if options.get("workspace"):
            ws = Workspace.objects.filter(slug=options["workspace"]).values_list("id", flat=True)
            targets = list(ws)
            if not targets:
                self.stderr.write(f"no workspace {options['workspace']!r}")
                raise SystemExit(1)
        names = dict(Workspace.objects.values_list("id", "slug"))
        total_values = 0
        for workspace_id in targets:
            label = names.get(workspace_id, "system") if workspace_id else "system"
            rows = rotation.count_rows(workspace_id)
            with tqdm(
                total=rows, desc=f"rotating {label}", unit="row", disable=None, file=self.stderr
            ) as bar:
                result = call(
                    partial(rotation.rotate_workspace, workspace_id,
                            batch_size=options["batch_size"], progress=bar.update)
                )
            total_values += result.values_rewritten
            self.stdout.write(
                f"{label}: {result.values_rewritten} values re-encrypted; "
                f"retired keys {result.retired_keys or 'none'}"
            )
        self.stdout.write(
            f"rotation complete: {len(targets)} key(s) rotated, {total_values} values re-encrypted"
        )
