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
from django.db.models import F, Q
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import (
    Level,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    Reservation,
    ReservationState,
)
from storesync.security import audit


class InsufficientStock(Conflict):
    code = "insufficient_stock"


@dataclass(frozen=True)
class StockLine:
    variant_id: uuid.UUID
    location_id: uuid.UUID
    quantity: int


def location_create(*, workspace_id: uuid.UUID, name: str, kind: str = LocationKind.WAREHOUSE,
                    actor: audit.Actor, **address: str) -> Location:
    if not name.strip():
        raise ValidationError("a location needs a name", field="name")
    if kind not in LocationKind.values:
        raise ValidationError(f"kind is one of {', '.join(LocationKind.values)}", field="kind")
    allowed = {"address_line1", "city", "postcode", "province_code", "country_code", "gstin"}
    unknown = set(address) - allowed
    if unknown:
        raise ValidationError("unknown address field", field=sorted(unknown)[0])
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            return Location.objects.create(workspace_id=workspace_id, name=name.strip(),
                                           kind=kind, **address)
    except IntegrityError:
        raise Conflict(f"a location named {name!r} exists", field="name") from None


LOCATION_FIELDS = ("name", "kind", "address_line1", "city", "postcode", "province_code",
                   "country_code", "gstin")


def location_update(*, workspace_id: uuid.UUID, location_id: uuid.UUID,
                    changes: dict[str, str], actor: audit.Actor) -> Location:
    """Rename a location, change its kind or address; a taken name is a Conflict."""
    unknown = set(changes) - set(LOCATION_FIELDS)
    if unknown:
        raise ValidationError("not a field that can be changed here", field=sorted(unknown)[0])
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError("a location needs a name", field="name")
    if "kind" in changes and changes["kind"] not in LocationKind.values:
        raise ValidationError(f"kind is one of {', '.join(LocationKind.values)}", field="kind")
    with workspace_scope(workspace_id), transaction.atomic():
        location = Location.objects.select_for_update().filter(id=location_id).first()
        if location is None:
            raise NotFound("no such location")
        for name, value in changes.items():
            setattr(location, name, str(value).strip())
        if Location.objects.filter(name=location.name).exclude(id=location.id).exists():
            raise Conflict(f"a location named {location.name!r} exists", field="name")
        location.save()
    return location


def location_set_active(*, workspace_id: uuid.UUID, location_id: uuid.UUID, active: bool,
                        actor: audit.Actor) -> Location:
    """Activate or deactivate a location. An inactive location's stock no longer counts as
    available to sell; deactivating one that still holds reserved stock is a Conflict (those
    orders would have nowhere to ship from)."""
    with workspace_scope(workspace_id), transaction.atomic():
        location = Location.objects.select_for_update().filter(id=location_id).first()
        if location is None:
            raise NotFound("no such location")
        if not active and Reservation.objects.filter(
                level__location_id=location.id, state=ReservationState.ACTIVE).exists():
            raise Conflict("this location holds stock reserved for open orders; fulfil, "
                           "cancel or move them first", field="is_active")
        if not active and Location.objects.filter(is_active=True).exclude(
                id=location.id).count() == 0:
            raise Conflict("the last active location cannot be deactivated", field="is_active")
        location.is_active = active
        location.save(update_fields=["is_active"])
    return location


def level_set_threshold(*, workspace_id: uuid.UUID, level_id: uuid.UUID,
                        low_stock_threshold: int | None, actor: audit.Actor) -> Level:
    """Warn when available stock at this level falls to ``low_stock_threshold`` or below;
    ``None`` turns the warning off."""
    if low_stock_threshold is not None and (
            not isinstance(low_stock_threshold, int) or isinstance(low_stock_threshold, bool)
            or not 0 <= low_stock_threshold <= 10_000_000):
        raise ValidationError("a whole number from 0 to 10,000,000, or null",
                              field="low_stock_threshold")
    with workspace_scope(workspace_id), transaction.atomic():
        changed = Level.objects.filter(id=level_id).update(
            low_stock_threshold=low_stock_threshold, updated_at=timezone.now())
        if not changed:
            raise NotFound("no such stock level")
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


def _apply(level: Level, *, kind: MovementKind, on_hand: int = 0, reserved: int = 0,
           guard: Q | None = None, reason: str = "", reference: str = "",
           actor: audit.Actor, override: bool = False) -> Movement:
    """One conditional UPDATE and its ledger row; raises InsufficientStock if the guard fails."""
    changed = Level.objects.filter(Q(id=level.id) & (guard or Q())).update(
        on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved,
        version=F("version") + 1, updated_at=timezone.now(),
    )
    if not changed:
        raise InsufficientStock("not enough stock", field="quantity")
    after = Level.objects.filter(id=level.id).values("on_hand", "reserved").get()
    return Movement.objects.create(
        workspace_id=level.workspace_id, level_id=level.id, kind=kind, on_hand_delta=on_hand,
        reserved_delta=reserved, on_hand_after=after["on_hand"],
        reserved_after=after["reserved"], reason=reason[:255], reference=reference[:100],
        actor_type=actor.type, actor_id=actor.id, negative_override=override,
    )


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
        return _apply(level, kind=MovementKind.RECEIVE, on_hand=quantity, reason=reason,
                      reference=reference, actor=actor)


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
        guard = None if allow_negative else Q(on_hand__gte=F("reserved") - delta) & Q(
            on_hand__gte=-delta)
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
                     guard=Q(on_hand__gte=F("reserved") + F("safety_buffer") + quantity),
                     reason=reason, reference=reference, actor=actor)
        into = _apply(target, kind=MovementKind.TRANSFER_IN, on_hand=quantity, reason=reason,
                      reference=reference, actor=actor)
    return out, into


def stock_reserve(*, workspace_id: uuid.UUID, lines: Sequence[StockLine], reference: str,
                  actor: audit.Actor) -> list[Reservation]:
    """Hold stock for every line, or for none (one transaction; InsufficientStock names it)."""
    if not reference:
        raise ValidationError("a reservation needs a reference", field="reference")
    for line in lines:
        _positive(line.quantity)
    with workspace_scope(workspace_id), transaction.atomic():
        levels = [(_level(line.variant_id, line.location_id), line) for line in lines]
        reservations = []
        for level, line in sorted(levels, key=lambda pair: pair[0].id):
            try:
                _apply(level, kind=MovementKind.RESERVE, reserved=line.quantity,
                       guard=Q(on_hand__gte=F("reserved") + F("safety_buffer") + line.quantity),
                       reference=reference, actor=actor)
            except InsufficientStock:
                raise InsufficientStock(
                    f"only {level.available} available of variant {line.variant_id} at this "
                    "location", field="quantity") from None
            reservations.append(Reservation(workspace_id=workspace_id, level_id=level.id,
                                            quantity=line.quantity, reference=reference))
        Reservation.objects.bulk_create(reservations)
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
        return len(open_)


def reservation_fulfil(*, workspace_id: uuid.UUID, reference: str, actor: audit.Actor) -> int:
    """Shipped: reserved stock leaves the building (on hand and reserved both drop)."""
    return _close(workspace_id, reference, sale=True, actor=actor)


def reservation_release(*, workspace_id: uuid.UUID, reference: str, actor: audit.Actor) -> int:
    """Cancelled: the reservation returns to available stock."""
    return _close(workspace_id, reference, sale=False, actor=actor)
