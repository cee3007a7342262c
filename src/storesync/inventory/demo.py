"""Generated demo stock: two warehouses in different states and a 3PL, each with stock of the
catalogue, received through ``inventory.services`` so that every unit is in the ledger.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from stdnum import luhn

from storesync.inventory.models import LocationKind
from storesync.inventory.services import location_create, stock_receive
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


def generate_stock(*, workspace_id: uuid.UUID, variant_ids: Sequence[uuid.UUID],
                   locations: Sequence[DemoLocation],
                   demand: Mapping[tuple[uuid.UUID, uuid.UUID], int], seed: int,
                   progress: Callable[[int], object] | None = None) -> int:
    """Receive opening stock of every variant at every location: what ``demand`` says will
    sell there plus 20-60 % and a few units of cover, so the shop ends with stock on the
    shelves. Returns the units received."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    actor = Actor.system("demo")
    received = 0
    # One outer transaction per variant: each receipt is still its own service call (and
    # savepoint), but SQLite commits once per variant instead of once per level.
    for variant_id in variant_ids:
        with transaction.atomic():
            for location in locations:
                sold = demand.get((variant_id, location.id), 0)
                quantity = sold + round(sold * rng.uniform(0.2, 0.6)) + rng.randint(3, 12)
                stock_receive(workspace_id=workspace_id, variant_id=variant_id,
                              location_id=location.id, quantity=quantity, actor=actor,
                              reason="opening stock", reference="demo:opening")
                received += quantity
        if progress:
            progress(1)
    return received
