"""Every change of stock. Each is one conditional UPDATE plus a ledger row, in a transaction.

The condition is the invariant: a reservation only succeeds ``WHERE on_hand - reserved -
safety_buffer >= quantity``, so two concurrent buyers of the last unit cannot both win, on
SQLite (writers serialise) or PostgreSQL (row lock taken by the UPDATE). Multi-line operations
touch levels in primary-key order, so they cannot deadlock each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import gstin as stdnum_gstin

from storesync.core.bulkwrite import insert_statements
from storesync.core.compiled_sql import tenant_rows
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.statement_batch import run_statements
from storesync.core.tenancy import workspace_scope
from storesync.inventory.level_updates import (
    Guard,
    LevelAfter,
    LevelChange,
    level_update,
    level_updates,
)
from storesync.inventory.models import (
    Level,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    Reservation,
    ReservationState,
)
from storesync.inventory.signals import send_stock_changed
from storesync.security import audit


class InsufficientStock(Conflict):
    code = "insufficient_stock"


@dataclass(frozen=True)
class StockLine:
    variant_id: uuid.UUID
    location_id: uuid.UUID
    quantity: int


LOCATION_FIELDS = frozenset({"name", "kind", "address_line1", "city", "postcode",
                             "province_code", "country_code", "gstin"})


def _check_location(fields: dict[str, str]) -> dict[str, str]:
    """Validated, trimmed location fields (only those given)."""
    unknown = set(fields) - LOCATION_FIELDS
    if unknown:
        raise ValidationError("unknown address field", field=sorted(unknown)[0])
    clean = {name: str(value).strip() for name, value in fields.items()}
    if "name" in clean and not clean["name"]:
        raise ValidationError("a location needs a name", field="name")
    if "kind" in clean and clean["kind"] not in LocationKind.values:
        raise ValidationError(f"kind is one of {', '.join(LocationKind.values)}", field="kind")
    if "country_code" in clean:
        clean["country_code"] = clean["country_code"].upper()
        if not (len(clean["country_code"]) == 2 and clean["country_code"].isalpha()):
            raise ValidationError("a two-letter country code (ISO 3166-1)", field="country_code")
    if "province_code" in clean:
        clean["province_code"] = clean["province_code"].upper()
    if clean.get("gstin"):
        try:
            clean["gstin"] = str(stdnum_gstin.validate(clean["gstin"]))
        except StdnumError as exc:
            raise ValidationError(f"not a valid GSTIN: {exc}", field="gstin") from None
    return clean


def location_create(*, workspace_id: uuid.UUID, name: str, kind: str = LocationKind.WAREHOUSE,
                    actor: audit.Actor, **address: str) -> Location:
    """A new active location; a GSTIN, if given, must be valid (checksum included)."""
    clean = _check_location({"name": name, "kind": kind, **address})
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            return Location.objects.create(workspace_id=workspace_id, **clean)
    except IntegrityError:
        raise Conflict(f"a location named {clean['name']!r} exists", field="name") from None


def location_update(*, workspace_id: uuid.UUID, location_id: uuid.UUID,
                    changes: dict[str, str], actor: audit.Actor) -> Location:
    """Change a location's name, kind or address (validated like ``location_create``)."""
    clean = _check_location(changes)
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            location = Location.objects.select_for_update().filter(id=location_id).first()
            if location is None:
                raise NotFound("no such location")
            changed = sorted(name for name, value in clean.items()
                             if getattr(location, name) != value)
            if not changed:
                return location
            for name in changed:
                setattr(location, name, clean[name])
            location.save(update_fields=changed)
            audit.record(action=audit.Action.LOCATION_UPDATED, actor=actor,
                         workspace_id=workspace_id, subject_type="location",
                         subject_id=location.id, detail={"fields": changed})
            return location
    except IntegrityError:
        raise Conflict(f"a location named {clean.get('name')!r} exists", field="name") from None


def location_set_active(*, workspace_id: uuid.UUID, location_id: uuid.UUID, active: bool,
                        actor: audit.Actor) -> Location:
    """Deactivate (or reactivate) a location. An inactive location keeps its stock and
    ledger, but new orders are not taken from it and its stock is not available to sell.
    Deactivating one that holds stock reserved for open orders (they would have nowhere to
    ship from), or the last active one, is a Conflict."""
    with workspace_scope(workspace_id), transaction.atomic():
        location = Location.objects.select_for_update().filter(id=location_id).first()
        if location is None:
            raise NotFound("no such location")
        if not active and Reservation.objects.filter(
                level__location_id=location.id, state=ReservationState.ACTIVE).exists():
            raise Conflict("this location holds stock reserved for open orders; fulfil, "
                           "cancel or move them first", field="is_active")
        if not active and not Location.objects.filter(is_active=True).exclude(
                id=location.id).exists():
            raise Conflict("the last active location cannot be deactivated", field="is_active")
        if location.is_active != active:
            location.is_active = active
            location.save(update_fields=["is_active"])
            audit.record(action=audit.Action.LOCATION_UPDATED, actor=actor,
                         workspace_id=workspace_id, subject_type="location",
                         subject_id=location.id, detail={"is_active": active})
        return location


class _Unchanged:
    """Marks a setting the caller leaves as it is (``None`` is a value: no threshold)."""


UNCHANGED = _Unchanged()
MAX_SETTING = 10_000_000


def _setting(value: object, field: str, *, nullable: bool) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SETTING:
        raise ValidationError("a whole number from 0 to 10,000,000"
                              + (", or empty" if nullable else ""), field=field)


def level_configure(*, workspace_id: uuid.UUID, level_id: uuid.UUID, actor: audit.Actor,
                    safety_buffer: int | _Unchanged = UNCHANGED,
                    low_stock_threshold: int | _Unchanged | None = UNCHANGED) -> Level:
    """Set a level's safety buffer (units held back from every channel) and/or its low-stock
    threshold (warn when *available* stock falls to it; ``None``: no warning). Settings not
    given stay as they are. Audited, and channels are told when the buffer changes, since it
    changes what they may sell."""
    changes: dict[str, int | None] = {}
    if not isinstance(safety_buffer, _Unchanged):
        _setting(safety_buffer, "safety_buffer", nullable=False)
        changes["safety_buffer"] = safety_buffer
    if not isinstance(low_stock_threshold, _Unchanged):
        _setting(low_stock_threshold, "low_stock_threshold", nullable=True)
        changes["low_stock_threshold"] = low_stock_threshold
    with workspace_scope(workspace_id), transaction.atomic():
        level = Level.objects.select_for_update().filter(id=level_id).first()
        if level is None:
            raise NotFound("no such stock level")
        before = {name: getattr(level, name) for name in changes}
        Level.objects.filter(id=level_id).update(
            **changes, version=F("version") + 1, updated_at=timezone.now())
        audit.record(action=audit.Action.STOCK_SETTINGS_CHANGED, actor=actor,
                     workspace_id=workspace_id, subject_type="inventory_level",
                     subject_id=level.id, detail={"before": before, "after": changes})
        if "safety_buffer" in changes and changes["safety_buffer"] != before["safety_buffer"]:
            send_stock_changed(workspace_id=workspace_id, variant_ids=[level.variant_id])
        return Level.objects.select_related("variant", "location").get(id=level_id)


def _level(variant_id: uuid.UUID, location_id: uuid.UUID) -> Level:
    level = Level.objects.filter(variant_id=variant_id, location_id=location_id).first()
    if level is not None:
        return level
    from storesync.catalog.models import Variant

    if not Variant.objects.filter(id=variant_id).exists():
        raise NotFound("no such variant")
    if not Location.objects.filter(id=location_id).exists():
        raise NotFound("no such location")
    level, _ = Level.objects.get_or_create(variant_id=variant_id, location_id=location_id)
    return level


def _levels(lines: Sequence[StockLine]) -> dict[tuple[uuid.UUID, uuid.UUID], Level]:
    """The level of every (variant, location) of ``lines``: one query for those that exist,
    ``_level`` (which creates it) for any that does not yet."""
    wanted = {(line.variant_id, line.location_id) for line in lines}
    found = {(level.variant_id, level.location_id): level for level in tenant_rows(
        Level, where={"variant_id__in": sorted({v for v, _ in wanted}),
                      "location_id__in": sorted({loc for _, loc in wanted})})}
    for variant_id, location_id in wanted - set(found):
        found[(variant_id, location_id)] = _level(variant_id, location_id)
    return found


def _change(level: Level, *, kind: MovementKind, on_hand: int = 0, reserved: int = 0,
            guard: Guard | None = None, reason: str = "", reference: str = "",
            actor: audit.Actor, override: bool = False) -> Movement:
    """One conditional UPDATE ... RETURNING, and its ledger row (not saved yet: the caller
    saves it, or bulk-creates the rows of several changes). Raises InsufficientStock if the
    guard fails."""
    after = level_update(level_id=level.id, workspace_id=level.workspace_id,
                         on_hand_delta=on_hand, reserved_delta=reserved, now=timezone.now(),
                         guard=guard)
    if after is None:
        raise InsufficientStock("not enough stock", field="quantity")
    return _movement(level, after, kind=kind, on_hand=on_hand, reserved=reserved, reason=reason,
                     reference=reference, actor=actor, override=override)


def _movement(level: Level, after: LevelAfter, *, kind: MovementKind, on_hand: int,
              reserved: int, reason: str, reference: str, actor: audit.Actor,
              override: bool = False) -> Movement:
    """The ledger row of a change applied to ``level`` (not saved yet)."""
    return Movement(
        workspace_id=level.workspace_id, level_id=level.id, kind=kind, on_hand_delta=on_hand,
        reserved_delta=reserved, on_hand_after=after.on_hand,
        reserved_after=after.reserved, reason=reason[:255], reference=reference[:100],
        actor_type=actor.type, actor_id=actor.id, negative_override=override,
    )


def _apply(level: Level, *, kind: MovementKind, on_hand: int = 0, reserved: int = 0,
           guard: Guard | None = None, reason: str = "", reference: str = "",
           actor: audit.Actor, override: bool = False) -> Movement:
    """One conditional UPDATE and its saved ledger row; raises InsufficientStock if the guard
    fails."""
    movement = _change(level, kind=kind, on_hand=on_hand, reserved=reserved, guard=guard,
                       reason=reason, reference=reference, actor=actor, override=override)
    movement.save(force_insert=True)
    return movement


def _positive(quantity: int) -> int:
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError("a positive whole number", field="quantity")
    return quantity


def stock_receive(*, workspace_id: uuid.UUID, variant_id: uuid.UUID, location_id: uuid.UUID,
                  quantity: int, actor: audit.Actor, reason: str = "received",
                  reference: str = "") -> Movement:
    _positive(quantity)
    with workspace_scope(workspace_id), transaction.atomic():
        level = _level(variant_id, location_id)
        movement = _apply(level, kind=MovementKind.RECEIVE, on_hand=quantity, reason=reason,
                          reference=reference, actor=actor)
        send_stock_changed(workspace_id=workspace_id, variant_ids=[variant_id])
        return movement


def stock_adjust(*, workspace_id: uuid.UUID, variant_id: uuid.UUID, location_id: uuid.UUID,
                 delta: int, reason: str, actor: audit.Actor,
                 allow_negative: bool = False) -> Movement:
    """Correct on-hand stock (count, damage, loss). It may not drop below what is reserved,
    nor below zero, unless ``allow_negative`` — an explicit override that is audited."""
    if not isinstance(delta, int) or delta == 0:
        raise ValidationError("a non-zero whole number", field="delta")
    if not reason.strip():
        raise ValidationError("say why stock is adjusted", field="reason")
    with workspace_scope(workspace_id), transaction.atomic():
        level = _level(variant_id, location_id)
        guard = None if allow_negative else Guard.on_hand_stays_covered(delta)
        movement = _apply(level, kind=MovementKind.ADJUST, on_hand=delta, guard=guard,
                          reason=reason, actor=actor, override=allow_negative)
        # Audit every override that took stock where the guard would not have gone: below
        # zero, or below what is already promised to orders.
        if allow_negative and movement.on_hand_after < max(movement.reserved_after, 0):
            audit.record(action=audit.Action.STOCK_NEGATIVE_OVERRIDE, actor=actor,
                         workspace_id=workspace_id, subject_type="inventory_level",
                         subject_id=level.id,
                         detail={"delta": delta, "on_hand_after": movement.on_hand_after,
                                 "reserved_after": movement.reserved_after,
                                 "reason": reason[:255]})
        send_stock_changed(workspace_id=workspace_id, variant_ids=[variant_id])
        return movement


def stock_transfer(*, workspace_id: uuid.UUID, variant_id: uuid.UUID,
                   from_location_id: uuid.UUID, to_location_id: uuid.UUID, quantity: int,
                   actor: audit.Actor, reason: str = "transfer") -> tuple[Movement, Movement]:
    _positive(quantity)
    if from_location_id == to_location_id:
        raise ValidationError("choose two different locations", field="to_location_id")
    reference = f"transfer:{uuid.uuid4().hex[:12]}"
    with workspace_scope(workspace_id), transaction.atomic():
        source = _level(variant_id, from_location_id)
        target = _level(variant_id, to_location_id)
        out = _apply(source, kind=MovementKind.TRANSFER_OUT, on_hand=-quantity,
                     guard=Guard.available_at_least(quantity),
                     reason=reason, reference=reference, actor=actor)
        into = _apply(target, kind=MovementKind.TRANSFER_IN, on_hand=quantity, reason=reason,
                      reference=reference, actor=actor)
        send_stock_changed(workspace_id=workspace_id, variant_ids=[variant_id])
    return out, into


def stock_return(*, workspace_id: uuid.UUID, variant_id: uuid.UUID, location_id: uuid.UUID,
                 quantity: int, reference: str, actor: audit.Actor,
                 reason: str = "returned") -> Movement:
    """Shipped units came back and can be sold again: on hand grows (a ``return`` movement)."""
    _positive(quantity)
    with workspace_scope(workspace_id), transaction.atomic():
        level = _level(variant_id, location_id)
        movement = _apply(level, kind=MovementKind.RETURN, on_hand=quantity, reason=reason,
                          reference=reference, actor=actor)
        send_stock_changed(workspace_id=workspace_id, variant_ids=[variant_id])
        return movement


def stock_reserve(*, workspace_id: uuid.UUID, lines: Sequence[StockLine], reference: str,
                  actor: audit.Actor, allow_oversell: bool = False,
                  savepoint: bool = True) -> list[Reservation]:
    """Hold stock for every line, or for none (one transaction; InsufficientStock names it).

    ``allow_oversell`` is for sales that already happened elsewhere (a channel's order): the
    stock is held even past what is available, so that available-to-sell drops below zero
    and every channel is told, instead of the sale being lost. ``savepoint=False`` is for a
    caller whose own transaction rolls back as a whole when this raises (an order being
    stored): it saves the SAVEPOINT / RELEASE round trips."""
    if not reference:
        raise ValidationError("a reservation needs a reference", field="reference")
    for line in lines:
        _positive(line.quantity)
    with workspace_scope(workspace_id), transaction.atomic(savepoint=savepoint):
        levels = _levels(lines)
        # Primary-key order, so that two orders for the same levels cannot deadlock: the
        # UPDATEs are sent together but run, and lock, in this order.
        ordered = sorted(lines, key=lambda ln: levels[(ln.variant_id, ln.location_id)].id)
        afters = level_updates([
            LevelChange(levels[(line.variant_id, line.location_id)].id, 0, line.quantity,
                        None if allow_oversell else Guard.available_at_least(line.quantity))
            for line in ordered], workspace_id=workspace_id, now=timezone.now())
        reservations, movements = [], []
        for line, after in zip(ordered, afters, strict=True):
            level = levels[(line.variant_id, line.location_id)]
            if after is None:  # the guard failed; the caller's rollback undoes the others
                raise InsufficientStock(
                    f"only {level.available} available of variant {line.variant_id} at this "
                    "location", field="quantity")
            movements.append(_movement(level, after, kind=MovementKind.RESERVE,
                                       on_hand=0, reserved=line.quantity, reason="",
                                       reference=reference, actor=actor))
            reservations.append(Reservation(workspace_id=workspace_id, level_id=level.id,
                                            quantity=line.quantity, reference=reference))
        run_statements([*insert_statements(movements), *insert_statements(reservations)])
        send_stock_changed(workspace_id=workspace_id,
                           variant_ids=[line.variant_id for line in lines])
    return reservations


def _close(workspace_id: uuid.UUID, reference: str, *, sale: bool,
           actor: audit.Actor) -> int:
    with workspace_scope(workspace_id), transaction.atomic():
        open_ = list(Reservation.objects.select_for_update().filter(
            reference=reference, state=ReservationState.ACTIVE).select_related("level")
            .order_by("level_id"))
        for reservation in open_:
            _apply(reservation.level, kind=MovementKind.SALE if sale else MovementKind.RELEASE,
                   on_hand=-reservation.quantity if sale else 0,
                   reserved=-reservation.quantity, reference=reference, actor=actor)
        Reservation.objects.filter(id__in=[r.id for r in open_]).update(
            state=ReservationState.FULFILLED if sale else ReservationState.RELEASED,
            closed_at=timezone.now())
        send_stock_changed(workspace_id=workspace_id,
                           variant_ids=[r.level.variant_id for r in open_])
        return len(open_)


def reservation_fulfil(*, workspace_id: uuid.UUID, reference: str, actor: audit.Actor) -> int:
    """Shipped: reserved stock leaves the building (on hand and reserved both drop)."""
    return _close(workspace_id, reference, sale=True, actor=actor)


def reservation_release(*, workspace_id: uuid.UUID, reference: str, actor: audit.Actor) -> int:
    """Cancelled: the reservation returns to available stock."""
    return _close(workspace_id, reference, sale=False, actor=actor)


def _settle(workspace_id: uuid.UUID, reference: str, lines: Sequence[StockLine], *,
            sale: bool, actor: audit.Actor) -> None:
    """Close part of a reference's reservations: ``quantity`` units per level, no more.

    A partly used reservation is split: the held row shrinks and a closed row records the
    units that were sold or released, so the rows still add up to what was reserved."""
    for line in lines:
        _positive(line.quantity)
    with workspace_scope(workspace_id), transaction.atomic():
        wanted: dict[uuid.UUID, int] = {}
        for line in lines:
            level = Level.objects.filter(variant_id=line.variant_id,
                                         location_id=line.location_id).first()
            if level is None:
                raise Conflict("nothing is reserved for this variant here", field="quantity")
            wanted[level.id] = wanted.get(level.id, 0) + line.quantity
        state = ReservationState.FULFILLED if sale else ReservationState.RELEASED
        now = timezone.now()
        for level_id in sorted(wanted):
            remaining = wanted[level_id]
            held = Reservation.objects.select_for_update().filter(
                reference=reference, level_id=level_id, state=ReservationState.ACTIVE,
            ).order_by("id")
            for reservation in held:
                take = min(reservation.quantity, remaining)
                if take == reservation.quantity:
                    Reservation.objects.filter(id=reservation.id).update(state=state,
                                                                         closed_at=now)
                else:
                    Reservation.objects.filter(id=reservation.id).update(
                        quantity=F("quantity") - take)
                    Reservation.objects.create(
                        workspace_id=workspace_id, level_id=level_id, quantity=take,
                        reference=reference, state=state, closed_at=now)
                remaining -= take
                if not remaining:
                    break
            if remaining:
                raise Conflict(f"{remaining} more unit(s) than reserved under {reference}",
                               field="quantity")
            level = Level.objects.get(id=level_id)
            quantity = wanted[level_id]
            _apply(level, kind=MovementKind.SALE if sale else MovementKind.RELEASE,
                   on_hand=-quantity if sale else 0, reserved=-quantity,
                   guard=Guard.reserved_at_least(quantity), reference=reference, actor=actor)
        send_stock_changed(workspace_id=workspace_id,
                           variant_ids=[line.variant_id for line in lines])


def reservation_fulfil_lines(*, workspace_id: uuid.UUID, reference: str,
                             lines: Sequence[StockLine], actor: audit.Actor) -> None:
    """Shipped in part: only these quantities of the reservation become sales."""
    _settle(workspace_id, reference, lines, sale=True, actor=actor)


def reservation_release_lines(*, workspace_id: uuid.UUID, reference: str,
                              lines: Sequence[StockLine], actor: audit.Actor) -> None:
    """No longer to be shipped, in part: these quantities return to available stock."""
    _settle(workspace_id, reference, lines, sale=False, actor=actor)


def level_set_safety_buffer(*, workspace_id: uuid.UUID, variant_id: uuid.UUID,
                            location_id: uuid.UUID, safety_buffer: int,
                            actor: audit.Actor) -> Level:
    """Hold ``safety_buffer`` units of this variant at this location back from every channel
    (the level is created if it does not exist yet)."""
    _setting(safety_buffer, "safety_buffer", nullable=False)
    with workspace_scope(workspace_id), transaction.atomic():
        level = _level(variant_id, location_id)
        return level_configure(workspace_id=workspace_id, level_id=level.id,
                               safety_buffer=safety_buffer, actor=actor)
