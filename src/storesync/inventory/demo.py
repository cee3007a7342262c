"""Generated demo stock: two warehouses in different states and a 3PL, each with stock of the
catalogue, and the stock's history (``StockHistory``): the opening receipts, then what the
demo's orders reserved, sold and released, each at the moment it happened.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from stdnum import luhn

from storesync.core.bulkwrite import tenant_bulk_update
from storesync.core.ids import HistoricIds
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import (
    Level,
    LocationKind,
    Movement,
    MovementKind,
    Reservation,
    ReservationState,
)
from storesync.inventory.services import InsufficientStock, location_create
from storesync.inventory.signals import send_stock_changed
from storesync.security.audit import Actor

GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEMO_PAN = "AAECD4821K"  # fictitious: the fourth letter C marks a company


def demo_gstin(state_number: str, pan: str = DEMO_PAN) -> str:
    """A GSTIN that passes the checksum: state, PAN, entity number, ``Z``, check character."""
    body = f"{state_number}{pan}1Z"
    return body + luhn.calc_check_digit(body, alphabet=GSTIN_ALPHABET)


@dataclass(frozen=True)
class DemoLocation:
    id: uuid.UUID
    name: str
    state: str
    kind: str


# Name, kind, street, city, postcode, ISO state, GST state number.
SITES = [
    ("Bhiwandi Warehouse", LocationKind.WAREHOUSE, "Gala 14, Rahnal Logistics Park",
     "Bhiwandi", "421302", "MH", "27"),
    ("Gurugram Warehouse", LocationKind.WAREHOUSE, "Plot 88, Sector 37 Industrial Area",
     "Gurugram", "122001", "HR", "06"),
    ("Bengaluru 3PL", LocationKind.THIRD_PARTY, "Unit 3, Hoskote Fulfilment Centre",
     "Hoskote", "562114", "KA", "29"),
]


def generate_locations(*, workspace_id: uuid.UUID) -> list[DemoLocation]:
    """The three demo locations, each registered for GST in its own state."""
    actor = Actor.system("demo")
    made = []
    for name, kind, street, city, postcode, state, number in SITES:
        location = location_create(
            workspace_id=workspace_id, name=name, kind=kind, actor=actor,
            address_line1=street, city=city, postcode=postcode, province_code=state,
            country_code="IN", gstin=demo_gstin(number),
        )
        made.append(DemoLocation(location.id, name, state, kind))
    return made


def generate_stock(*, stock: StockHistory, variant_ids: Sequence[uuid.UUID],
                   locations: Sequence[DemoLocation],
                   demand: Mapping[tuple[uuid.UUID, uuid.UUID], int], seed: int,
                   at: datetime) -> int:
    """Receive opening stock of every variant at every location into ``stock`` at ``at``:
    what ``demand`` says will sell there plus 20-60 % and a few units of cover, so the shop
    ends with stock on the shelves. Returns the units received."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    received = 0
    for variant_id in variant_ids:
        for location in locations:
            sold = demand.get((variant_id, location.id), 0)
            quantity = sold + round(sold * rng.uniform(0.2, 0.6)) + rng.randint(3, 12)
            stock.receive(variant_id=variant_id, location_id=location.id, quantity=quantity,
                          at=at, reason="opening stock", reference="demo:opening")
            received += quantity
    return received


@dataclass
class _Held:
    reservation: Reservation
    level: Level


@dataclass
class StockHistory:
    """The stock ledger of a made-up past, played in memory and written in bulk.

    Each change follows the rule its service in ``inventory.services`` enforces — a
    reservation needs available stock for every line or takes none (``InsufficientStock``),
    levels are taken in primary-key order, shipping or cancelling closes what was reserved
    with a ``sale`` or ``release`` movement — and yields the same rows: levels, one movement
    per change with the level's values after it, reservations. What differs is when: every
    row is stamped (``created_at``, and its UUIDv7) with the moment it happened in the
    generated past, so the ledger and the order timelines read in the order of events. The
    changes must therefore be applied oldest first. ``write`` stores everything in one go;
    the demo's tests check that levels equal the ledger and the open reservations.
    """

    workspace_id: uuid.UUID
    actor: Actor
    ids: HistoricIds = field(default_factory=HistoricIds)
    levels: dict[tuple[uuid.UUID, uuid.UUID], Level] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    open: dict[str, list[_Held]] = field(default_factory=dict)
    # When each movement and reservation happened (bulk_create overwrites ``created_at``).
    moments: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def _id(self, at: datetime) -> uuid.UUID:
        return self.ids.at(int(at.timestamp() * 1000))

    def _stamped(self, at: datetime) -> uuid.UUID:
        row_id = self._id(at)
        self.moments[row_id] = at
        return row_id

    def _level(self, variant_id: uuid.UUID, location_id: uuid.UUID, at: datetime) -> Level:
        key = (variant_id, location_id)
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = Level(
                id=self._id(at), workspace_id=self.workspace_id, variant_id=variant_id,
                location_id=location_id, on_hand=0, reserved=0, version=0)
        return level

    def _move(self, level: Level, kind: MovementKind, at: datetime, *, on_hand: int = 0,
              reserved: int = 0, reason: str = "", reference: str = "") -> None:
        level.on_hand += on_hand
        level.reserved += reserved
        level.version += 1
        self.movements.append(Movement(
            id=self._stamped(at), workspace_id=self.workspace_id, level_id=level.id, kind=kind,
            on_hand_delta=on_hand, reserved_delta=reserved, on_hand_after=level.on_hand,
            reserved_after=level.reserved, reason=reason, reference=reference,
            actor_type=self.actor.type, actor_id=self.actor.id))

    def receive(self, *, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int,
                at: datetime, reason: str = "received", reference: str = "") -> None:
        """As ``stock_receive``: on hand grows."""
        level = self._level(variant_id, location_id, at)
        self._move(level, MovementKind.RECEIVE, at, on_hand=quantity, reason=reason,
                   reference=reference)

    def reserve(self, *, lines: Iterable[tuple[uuid.UUID, uuid.UUID, int]], reference: str,
                at: datetime) -> None:
        """As ``stock_reserve``: hold (variant, location, quantity) for every line, or none."""
        wanted = [(self._level(v, loc, at), q) for v, loc, q in lines]
        for level, quantity in wanted:
            if level.on_hand < level.reserved + level.safety_buffer + quantity:
                raise InsufficientStock(f"only {level.available} available of variant "
                                        f"{level.variant_id} at this location",
                                        field="quantity")
        held = self.open.setdefault(reference, [])
        for level, quantity in sorted(wanted, key=lambda pair: pair[0].id):
            self._move(level, MovementKind.RESERVE, at, reserved=quantity, reference=reference)
            reservation = Reservation(
                id=self._stamped(at), workspace_id=self.workspace_id, level_id=level.id,
                quantity=quantity, reference=reference)
            self.reservations.append(reservation)
            held.append(_Held(reservation, level))

    def close(self, *, reference: str, sale: bool, at: datetime) -> None:
        """As ``reservation_fulfil`` (``sale``) or ``reservation_release``: every open
        reservation of ``reference`` leaves the building, or returns to available stock."""
        for held in sorted(self.open.pop(reference, []), key=lambda h: h.level.id):
            quantity = held.reservation.quantity
            self._move(held.level, MovementKind.SALE if sale else MovementKind.RELEASE, at,
                       on_hand=-quantity if sale else 0, reserved=-quantity,
                       reference=reference)
            held.reservation.state = (ReservationState.FULFILLED if sale
                                      else ReservationState.RELEASED)
            held.reservation.closed_at = at

    def write(self, *, batch_size: int = 2000) -> None:
        """Store the levels, the ledger and the reservations, and tell listeners (the channel
        outbox) once that the stock of every variant touched changed."""
        with workspace_scope(self.workspace_id), transaction.atomic():
            Level.objects.bulk_create(self.levels.values(), batch_size=batch_size)
            Movement.objects.bulk_create(self.movements, batch_size=batch_size)
            Reservation.objects.bulk_create(self.reservations, batch_size=batch_size)
            # bulk_create stamps auto_now_add fields with the present: put the past back.
            for movement in self.movements:
                movement.created_at = self.moments[movement.id]
            for reservation in self.reservations:
                reservation.created_at = self.moments[reservation.id]
            tenant_bulk_update(self.movements, ["created_at"], batch_size=batch_size)
            tenant_bulk_update(self.reservations, ["created_at"], batch_size=batch_size)
            send_stock_changed(workspace_id=self.workspace_id,
                               variant_ids={variant for variant, _ in self.levels})
