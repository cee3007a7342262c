"""``storesync export products|inventory|orders --workspace SLUG [--output FILE]``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from storesync.catalog.bulk import products_csv
from storesync.cli.common import keyring_ready, workspace_by_slug
from storesync.core.models import Workspace
from storesync.inventory.bulk import levels_csv
from storesync.orders.export import orders_csv


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(BaseCommand):
    help = (
        "Export products (one row per variant, the columns `import products` reads), stock "
        "levels, or order lines (number, dates, source, status, SKU, quantity, prices and the "
        "GST split) as CSV, to standard output or --output FILE. The orders export contains "
        "no personal data: no buyer names, emails, phone numbers, addresses or GSTINs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["products", "inventory", "orders"])
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")
        parser.add_argument("--from", dest="placed_from", metavar="YYYY-MM-DD",
                            help="orders placed on or after this day")
        parser.add_argument("--to", dest="placed_to", metavar="YYYY-MM-DD",
                            help="orders placed before this day")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspace = workspace_by_slug(options["workspace"])
        chunks = self._chunks(workspace, options)
        if not options["output"]:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        target = Path(options["output"])
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                for chunk in chunks:
                    out.write(chunk)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"cannot write {target}: {exc.strerror}") from None
        os.replace(partial, target)  # a reader never sees half a file
        self.stderr.write(f"wrote {target}")

    def _chunks(self, workspace: Workspace, options: dict[str, Any]) -> Iterator[str]:
        if options["kind"] == "products":
            return products_csv(workspace_id=workspace.id, currency=workspace.currency)
        if options["kind"] == "inventory":
            return levels_csv(workspace_id=workspace.id)
        return orders_csv(
            workspace_id=workspace.id,
            placed_from=_day(options["placed_from"]) if options["placed_from"] else None,
            placed_to=_day(options["placed_to"]) if options["placed_to"] else None)
