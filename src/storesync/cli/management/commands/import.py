"""``storesync import products|inventory FILE --workspace SLUG [--valid-only] [--dry-run]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from storesync.catalog.bulk import ProductImporter
from storesync.cli.common import keyring_ready, workspace_by_slug
from storesync.core.csvio import CsvRejected, CsvSource
from storesync.core.imports import Importer, ImportOutcome, run_import
from storesync.inventory.bulk import StockImporter
from storesync.security.audit import Actor


class Command(BaseCommand):
    help = (
        "Import products (one row per variant, Shopify-like columns) or stock levels (sku, "
        "location, on_hand or adjust, safety_buffer, low_stock_threshold) from a CSV file: "
        "UTF-8 with or without BOM, separated by commas, semicolons or tabs. Every row is "
        "checked first; nothing is saved unless every row is valid (or --valid-only). "
        "Exits 1 when the file is refused; the full list of problems is written to a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["products", "inventory"])
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("--valid-only", action="store_true",
                            help="save the valid rows and skip the others (reported)")
        parser.add_argument("--dry-run", action="store_true",
                            help="check every row, save nothing")
        parser.add_argument("--report", metavar="FILE",
                            help="where to write the full problem report (default: next to "
                                 "the input, FILE.problems.csv)")
        parser.add_argument("--show", type=int, default=20, metavar="N",
                            help="print the first N problems (default 20)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspace = workspace_by_slug(options["workspace"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = Actor.system("cli")
        importer: Importer[Any] = (
            ProductImporter(workspace_id=workspace.id, currency=workspace.currency, actor=actor)
            if options["kind"] == "products"
            else StockImporter(workspace_id=workspace.id, actor=actor, reference="cli import"))
        try:
            source = CsvSource(path, importer.columns)
        except CsvRejected as exc:
            for problem in exc.problems[: options["show"]]:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"{path.name} refused: {exc.message}") from None
        outcome = self._run(importer, source, options)
        self._report(outcome, path, options)

    def _run(self, importer: Importer[Any], source: CsvSource,
             options: dict[str, Any]) -> ImportOutcome:
        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            bar = bars.get(stage)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[stage] = tqdm(desc=stage, total=total, unit=" rows", file=sys.stderr,
                                         disable=options["no_progress"], leave=True)
            bar.update(done - bar.n)

        try:
            return run_import(importer, source, valid_only=options["valid_only"],
                              dry_run=options["dry_run"], progress=progress)
        finally:
            for bar in bars.values():
                bar.close()

    def _report(self, outcome: ImportOutcome, path: Path, options: dict[str, Any]) -> None:
        problems = outcome.problems
        if problems.count:
            for problem in problems.first[: options["show"]]:
                self.stderr.write(f"  {problem}")
            if problems.count > options["show"]:
                self.stderr.write(f"  ... and {problems.count - options['show']} more")
            report = Path(options["report"] or f"{path}.problems.csv")
            problems.save(report)
            self.stderr.write(f"full report of {problems.count} problem(s): {report}")
        problems.close()
        valid = outcome.rows - outcome.invalid_rows
        if outcome.rejected:
            raise CommandError(f"{path.name} refused: {outcome.invalid_rows} of {outcome.rows} "
                               "rows have problems; nothing was saved (fix them, or use "
                               "--valid-only to save the other rows)")
        if outcome.write_error:
            raise CommandError(outcome.write_error)
        if outcome.dry_run:
            self.stdout.write(f"dry run: {valid} of {outcome.rows} rows are valid; nothing "
                              "was saved")
            return
        written = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in outcome.written.items())
        skipped = f"; {outcome.invalid_rows} rows skipped" if outcome.invalid_rows else ""
        self.stdout.write(f"imported {valid} of {outcome.rows} rows ({written or 'no changes'})"
                          f"{skipped}")
