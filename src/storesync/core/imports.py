"""The shape every CSV import follows: check every row first, then write in batches.

An app describes its import as a ``Importer`` (``catalog.bulk``, ``inventory.bulk``): how
records group into units (a product with its variant rows, one stock row), what the database
says about a batch of units (a SKU used elsewhere), and how a batch of valid units is
written through the app's own batched service. ``run_import`` does the rest:

1. Validation reads the whole file once, streaming, and records every problem with its row
   and column (``ProblemLog``: counted, the first ones kept, all spooled to disk).
2. If a problem was found, nothing is written — unless ``valid_only``, in which case the
   units with problems are skipped and reported. A file that could not be read to its end
   (a malformed record) is always refused.
3. Writing reads the file a second time and hands valid units to the app in batches, each
   batch one transaction. Validation already ran against the database, so a batch fails only
   if someone changed the same rows meanwhile; the outcome then says how far it got, and
   re-running the import is safe (imports upsert; see ADR 0009).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from storesync.core import jobs
from storesync.core.csvio import Columns, CsvRejected, CsvSource, Problem, ProblemLog, Record
from storesync.core.errors import StoresyncError
from storesync.core.ids import uuid7
from storesync.core.jobs import JobContext, JobFailed, jobs_dir
from storesync.core.models import Job
from storesync.security.audit import Actor

T = TypeVar("T")
Progress = Callable[[str, int, int | None], None]
BATCH_ROWS = 1000


@dataclass
class Unit(Generic[T]):
    """Rows that are written together (one product, one stock row) and what they parse to."""

    first_row: int
    row_count: int
    item: T | None
    problems: list[Problem] = field(default_factory=list)


class Importer(Protocol[T]):
    columns: Columns

    def units(self, records: Iterable[Record | Problem]) -> Iterator[Unit[T]]:
        """Group and parse records; a unit with problems has ``item`` None or is skipped."""

    def check(self, units: list[Unit[T]]) -> None:
        """Add to each unit the problems only the database can reveal (mutates ``problems``)."""

    def write(self, items: list[T]) -> dict[str, int]:
        """Write valid items in one transaction through the app's services; return counts."""


@dataclass
class ImportOutcome:
    rows: int = 0
    invalid_rows: int = 0
    written: dict[str, int] = field(default_factory=dict)
    rejected: bool = False
    dry_run: bool = False
    valid_only: bool = False
    write_error: str = ""
    problems: ProblemLog = field(default_factory=ProblemLog)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.write_error

    def summary(self, *, report: Path | None = None) -> dict[str, Any]:
        """A JSON-able summary for a job's result or an API response."""
        return {
            "rows": self.rows, "valid_rows": self.rows - self.invalid_rows,
            "invalid_rows": self.invalid_rows, "error_count": self.problems.count,
            "errors": [p.as_dict() for p in self.problems.first],
            "written": self.written, "rejected": self.rejected, "dry_run": self.dry_run,
            "valid_only": self.valid_only, "write_error": self.write_error,
            "report": report.name if report else None,
        }


def _batches(units: Iterator[Unit[T]], rows: int) -> Iterator[list[Unit[T]]]:
    batch: list[Unit[T]] = []
    size = 0
    for unit in units:
        batch.append(unit)
        size += unit.row_count
        if size >= rows:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


def run_import(importer: Importer[T], source: CsvSource, *, valid_only: bool = False,
               dry_run: bool = False, progress: Progress = _noop,
               batch_rows: int = BATCH_ROWS) -> ImportOutcome:
    """Validate every row of ``source``, then (unless refused or a dry run) write it.

    Never raises for a problem in the file: the outcome lists them. Raises only for what is
    not the file's fault (the database went away).
    """
    outcome = ImportOutcome(dry_run=dry_run, valid_only=valid_only)
    skipped: set[int] = set()
    fatal = False
    for batch in _batches(importer.units(source), batch_rows):
        importer.check([u for u in batch if not u.problems])
        for unit in batch:
            outcome.rows += unit.row_count
            if unit.problems:
                skipped.add(unit.first_row)
                outcome.invalid_rows += unit.row_count
                outcome.problems.extend(unit.problems)
                fatal = fatal or any(p.fatal for p in unit.problems)
        progress("validating", outcome.rows, None)
    if fatal or (outcome.problems.count and not valid_only):
        outcome.rejected = True
        return outcome
    if dry_run:
        return outcome
    total = outcome.rows - outcome.invalid_rows
    done = 0
    progress("writing", 0, total)
    for batch in _batches(importer.units(source), batch_rows):
        valid = [u for u in batch if u.first_row not in skipped and u.item is not None
                 and not u.problems]
        if not valid:
            continue
        try:
            counts = importer.write([u.item for u in valid if u.item is not None])
        except StoresyncError as exc:
            outcome.write_error = (
                f"stopped at row {valid[0].first_row}: {exc.message}; the {done} rows before "
                "it were saved, and running the same import again is safe")
            return outcome
        for key, count in counts.items():
            outcome.written[key] = outcome.written.get(key, 0) + count
        done += sum(u.row_count for u in valid)
        progress("writing", done, total)
    return outcome


def import_start(*, workspace_id: uuid.UUID, kind: str, columns: Columns,
                 chunks: Iterable[bytes], filename: str, valid_only: bool, dry_run: bool,
                 actor: Actor) -> Job:
    """Save an uploaded CSV under the jobs directory and queue the job ``kind`` that imports it.

    The encoding, delimiter and header are checked here, before any job exists: a file that
    cannot be read as ``columns`` raises ``CsvRejected`` (every header problem in it) and is
    deleted, so nothing is kept. The rows are checked and written later by the job.
    """
    job_id = uuid7()
    path = jobs_dir() / f"{job_id}.csv"
    try:
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        CsvSource(path, columns)
        return jobs.job_create(workspace_id=workspace_id, kind=kind, actor=actor, job_id=job_id,
                               params={"file": path.name, "filename": filename[:200],
                                       "valid_only": valid_only, "dry_run": dry_run})
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def run_import_job_with(context: JobContext, importer: Importer[T]) -> dict[str, Any]:
    """Run an import as a ``core.Job``: params name the uploaded file (under the jobs
    directory) and the options; progress goes to the job; the full problem report is saved
    next to it. A refused file fails the job with the first problems in its summary."""
    params = context.params
    path = jobs_dir() / str(params["file"])
    try:
        source = CsvSource(path, importer.columns)
    except CsvRejected as exc:
        raise JobFailed(exc.message, result={
            "rejected": True, "error_count": len(exc.problems),
            "errors": [p.as_dict() for p in exc.problems[:100]]}) from None
    except FileNotFoundError:
        raise JobFailed("the uploaded file is no longer there; upload it again") from None

    def progress(stage: str, done: int, total: int | None) -> None:
        context.progress(done=done, total=total, stage=stage)

    outcome = run_import(importer, source, valid_only=bool(params.get("valid_only")),
                         dry_run=bool(params.get("dry_run")), progress=progress)
    report = None
    if outcome.problems.count:
        report = outcome.problems.save(jobs_dir() / f"{context.job_id}-problems.csv")
        context.set_result_file(report.name)
    outcome.problems.close()
    summary = outcome.summary(report=report)
    if outcome.rejected:
        raise JobFailed(f"the file was refused: {outcome.problems.count} problem(s) in "
                        f"{outcome.invalid_rows} row(s); nothing was saved", result=summary)
    if outcome.write_error:
        raise JobFailed(outcome.write_error, result=summary)
    path.unlink(missing_ok=True)  # done: the upload is kept only while a retry may need it
    return summary
