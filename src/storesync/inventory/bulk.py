"""Stock levels by the thousand: CSV import (counts, corrections, buffers, thresholds) and
CSV export, in the same columns.

A row names a SKU and a location (by name) and sets ``on_hand`` (a count) or changes it by
``adjust`` (a correction, + or -), and may set ``safety_buffer`` and ``low_stock_threshold``.
Every on-hand change goes into the movement ledger (kind ``adjust``, reason ``csv import``)
through ``stock_bulk_apply``, the batched form of ``inventory.services.stock_adjust``: the
batch's levels are locked in primary-key order, each change is checked against what is
reserved (stock held for open orders is never counted away), and levels and ledger rows are
written in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.catalog.models import Variant
from storesync.core.bulkwrite import tenant_bulk_update
from storesync.core.csvio import Columns, Problem, Record, RowCheck, csv_chunks
from storesync.core.errors import ValidationError
from storesync.core.imports import Unit, run_import_job_with
from storesync.core.jobs import JobContext
from storesync.core.pagination import keyset_batches
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level, Location, Movement, MovementKind
from storesync.inventory.services import InsufficientStock
from storesync.inventory.signals import send_stock_changed
from storesync.security import audit

HEADER = ("sku", "location", "on_hand", "safety_buffer", "low_stock_threshold", "reserved",
          "available")
COLUMNS = Columns(required=("sku", "location"),
                  optional=("on_hand", "adjust", "safety_buffer", "low_stock_threshold"),
                  ignored=("reserved", "available"),
                  aliases={"quantity": "on_hand", "available_quantity": "on_hand"})
REASON = "csv import"
MAX_QUANTITY = 100_000_000


@dataclass(frozen=True)
class StockChange:
    """One level's new values: ``on_hand`` (absolute) or ``delta``, and optional settings."""

    variant_id: uuid.UUID
    location_id: uuid.UUID
    on_hand: int | None = None
    delta: int | None = None
    safety_buffer: int | None = None
    low_stock_threshold: int | None = None


@dataclass
class StockRow:
    row: int
    sku: str
    location: str
    on_hand: int | None
    delta: int | None
    safety_buffer: int | None
    low_stock_threshold: int | None


def _check_change(change: StockChange) -> None:
    if change.on_hand is not None and change.delta is not None:
        raise ValidationError("give on_hand or adjust, not both", field="adjust")
    if change.on_hand is not None and not 0 <= change.on_hand <= MAX_QUANTITY:
        raise ValidationError("on hand is a whole number from 0", field="on_hand")
    if change.delta == 0:
        raise ValidationError("an adjustment is a non-zero whole number", field="adjust")
    for name in ("safety_buffer", "low_stock_threshold"):
        value = getattr(change, name)
        if value is not None and not 0 <= value <= MAX_QUANTITY:
            raise ValidationError("a whole number from 0", field=name)


def stock_bulk_apply(*, workspace_id: uuid.UUID, changes: list[StockChange], actor: audit.Actor,
                     reason: str = REASON, reference: str = "") -> dict[str, int]:
    """Apply many level changes in one transaction, each on-hand change with its ledger row.

    Levels are created when missing, then locked in primary-key order (no deadlock with other
    multi-level writers); a change that would leave on-hand stock below zero or below what is
    reserved raises ``InsufficientStock`` and nothing of the batch is written.
    """
    for change in changes:
        _check_change(change)
    if not reason.strip():
        raise ValidationError("say why stock changes", field="reason")
    now = timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        variant_ids = {c.variant_id for c in changes}
        wanted = {(c.variant_id, c.location_id) for c in changes}
        have = set(Level.objects.filter(variant_id__in=variant_ids)
                   .values_list("variant_id", "location_id"))
        created = [Level(workspace_id=workspace_id, variant_id=v, location_id=loc)
                   for v, loc in sorted(wanted - have)]
        Level.objects.bulk_create(created, batch_size=500, ignore_conflicts=True)
        levels = {(lv.variant_id, lv.location_id): lv for lv in Level.objects.select_for_update()
                  .filter(variant_id__in=variant_ids).order_by("id")}
        moves = [m for c in changes if (m := _change(levels[(c.variant_id, c.location_id)], c,
                                                      now, reason, reference, actor))]
        touched = [levels[pair] for pair in wanted]
        tenant_bulk_update(touched, ["on_hand", "safety_buffer", "low_stock_threshold",
                                     "version", "updated_at"])
        Movement.objects.bulk_create(moves, batch_size=1000)
        # Buffers count too: what a channel may sell is on hand - reserved - buffer.
        send_stock_changed(workspace_id=workspace_id, variant_ids=variant_ids)
    return {"levels_created": len(created), "levels_updated": len(touched),
            "movements": len(moves)}


def _change(level: Level, change: StockChange, now: Any, reason: str, reference: str,
            actor: audit.Actor) -> Movement | None:
    """Apply ``change`` to the locked ``level`` in memory; its ledger row if on hand moved."""
    target = level.on_hand
    if change.on_hand is not None:
        target = change.on_hand
    elif change.delta is not None:
        target = level.on_hand + change.delta
    if target != level.on_hand and (target < 0 or target < level.reserved):
        raise InsufficientStock(
            f"on hand would be {target}, below zero or the {level.reserved} reserved for open "
            f"orders (variant {change.variant_id})", field="on_hand")
    if change.safety_buffer is not None:
        level.safety_buffer = change.safety_buffer
    if change.low_stock_threshold is not None:
        level.low_stock_threshold = change.low_stock_threshold
    level.version += 1
    level.updated_at = now
    delta, level.on_hand = target - level.on_hand, target
    if not delta:
        return None
    return Movement(workspace_id=level.workspace_id, level_id=level.id, kind=MovementKind.ADJUST,
                    on_hand_delta=delta, reserved_delta=0, on_hand_after=target,
                    reserved_after=level.reserved, reason=reason[:255],
                    reference=reference[:100], actor_type=actor.type, actor_id=actor.id,
                    created_at=now)


class StockImporter:
    """The inventory's ``core.imports.Importer``: one unit per row."""

    columns = COLUMNS

    def __init__(self, *, workspace_id: uuid.UUID, actor: audit.Actor,
                 reference: str = "") -> None:
        self.workspace_id = workspace_id
        self.actor = actor
        self.reference = reference
        with workspace_scope(workspace_id):
            self.names = dict(Location.objects.values_list("name", "id"))
        # Names match ignoring case, unless two locations differ only by case.
        folded: dict[str, list[uuid.UUID]] = {}
        for name, lid in self.names.items():
            folded.setdefault(name.casefold(), []).append(lid)
        self.folded = {key: ids[0] for key, ids in folded.items() if len(ids) == 1}
        self._pairs: dict[tuple[str, str], int] = {}

    def units(self, records: Iterable[Record | Problem]) -> Iterator[Unit[StockRow]]:
        self._pairs = {}
        for record in records:
            if isinstance(record, Problem):
                yield Unit(record.row or 0, 1, None, [record])
                continue
            check = RowCheck(record)
            item = self._row(check)
            yield Unit(record.row, 1, None if check.problems else item, check.problems)

    def _row(self, check: RowCheck) -> StockRow:
        sku = check.text("sku", required=True, max_length=64)
        location = check.text("location", required=True, max_length=100)
        if location and self.location_id(location) is None:
            names = ", ".join(sorted(self.names)) or "none yet"
            check.fail("location", f"no such location (locations: {names})", location)
        on_hand = check.integer("on_hand", maximum=MAX_QUANTITY)
        delta = check.integer("adjust", minimum=None, maximum=MAX_QUANTITY)
        if on_hand is not None and delta is not None:
            check.fail("adjust", "give on_hand (a count) or adjust (a change), not both",
                       check.values["adjust"])
        if delta == 0:
            check.fail("adjust", "an adjustment of 0 changes nothing; leave it empty", "0")
        row = StockRow(check.row, sku, location, on_hand, delta,
                       check.integer("safety_buffer", maximum=MAX_QUANTITY),
                       check.integer("low_stock_threshold", maximum=MAX_QUANTITY))
        if all(v is None for v in (on_hand, delta, row.safety_buffer, row.low_stock_threshold)):
            check.fail(None, "nothing to change: fill on_hand, adjust, safety_buffer or "
                       "low_stock_threshold")
        pair = (sku, location.casefold())
        if sku and pair in self._pairs:
            check.fail("sku", f"this SKU and location are also on row {self._pairs[pair]}", sku)
        self._pairs.setdefault(pair, check.row)
        return row

    def location_id(self, name: str) -> uuid.UUID | None:
        return self.names.get(name) or self.folded.get(name.casefold())

    def _location(self, name: str) -> uuid.UUID:
        found = self.location_id(name)
        if found is None:  # validated before writing; gone only if renamed meanwhile
            raise ValidationError(f"no location named {name!r}", field="location")
        return found

    def _resolve(self, units: Iterable[Unit[StockRow]]) -> dict[str, uuid.UUID]:
        skus = [u.item.sku for u in units if u.item is not None]
        with workspace_scope(self.workspace_id):
            return dict(Variant.objects.filter(sku__in=skus).values_list("sku", "id"))

    def check(self, units: list[Unit[StockRow]]) -> None:
        variants = self._resolve(units)
        with workspace_scope(self.workspace_id):
            levels = {(lv.variant_id, lv.location_id): lv for lv in
                      Level.objects.filter(variant_id__in=list(variants.values()))}
        for unit in units:
            row = unit.item
            if row is None:
                continue
            if row.sku not in variants:
                unit.problems.append(Problem(row.row, "sku", "no variant has this SKU", row.sku))
                continue
            level = levels.get((variants[row.sku], self.location_id(row.location)))
            on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
            target = row.on_hand if row.on_hand is not None else on_hand + (row.delta or 0)
            if target != on_hand and (target < 0 or target < reserved):
                column = "on_hand" if row.on_hand is not None else "adjust"
                unit.problems.append(Problem(
                    row.row, column, f"would leave {target} on hand, below zero or the "
                    f"{reserved} reserved for open orders", str(row.on_hand or row.delta)))

    def write(self, items: list[StockRow]) -> dict[str, int]:
        variants = self._resolve(Unit(r.row, 1, r) for r in items)
        changes = [StockChange(variant_id=variants[r.sku],
                               location_id=self._location(r.location),
                               on_hand=r.on_hand, delta=r.delta, safety_buffer=r.safety_buffer,
                               low_stock_threshold=r.low_stock_threshold) for r in items]
        return stock_bulk_apply(workspace_id=self.workspace_id, changes=changes,
                                actor=self.actor, reference=self.reference)


def levels_csv(*, workspace_id: uuid.UUID, batch_size: int = 1000) -> Iterator[str]:
    """Every stock level as a CSV row (the import's columns plus reserved and available)."""

    def levels() -> Any:
        return Level.objects.select_related("variant", "location")

    def rows() -> Iterator[list[Any]]:
        for batch in keyset_batches(levels, workspace_id=workspace_id, batch_size=batch_size):
            for level in batch:
                yield [level.variant.sku, level.location.name, level.on_hand,
                       level.safety_buffer, level.low_stock_threshold, level.reserved,
                       level.available]

    return csv_chunks(HEADER, rows())


def run_import_job(context: JobContext) -> dict[str, Any]:
    """The runner of ``import.inventory`` jobs (``core.jobs.RUNNERS``)."""
    importer = StockImporter(workspace_id=context.workspace_id, actor=context.actor,
                             reference=f"job:{context.job_id}")
    return run_import_job_with(context, importer)
