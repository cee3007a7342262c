"""Generated demo customers (Faker, Indian locale): believable, never real people."""

from __future__ import annotations

import uuid

from faker import Faker

from storesync.customers.services import AddressInput, CustomerInput, customers_bulk_create
from storesync.security.audit import Actor

# ISO 3166-2:IN subdivision codes (the GST state codes map onto these).
STATES = ["MH", "KA", "TN", "DL", "GJ", "UP", "WB", "TG", "RJ", "KL", "PB", "HR"]


def generate_customers(*, workspace_id: uuid.UUID, count: int, seed: int | None = None) -> int:
    fake = Faker("en_IN")
    if seed is not None:
        fake.seed_instance(seed)
    rows = []
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        phone = f"+91{fake.random_element('6789')}{fake.numerify('#########')}"
        rows.append(
            CustomerInput(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{index}@example.com".lower().replace(" ", ""),
                phone=phone,
                tags=list(fake.random_elements(
                    ["vip", "wholesale", "repeat", "new"], unique=True, length=fake.random_int(0, 2)
                )),
                address=AddressInput(
                    name=f"{first} {last}",
                    line1=fake.street_address(),
                    city=fake.city(),
                    postcode=fake.postcode(),
                    province_code=fake.random_element(STATES),
                    country_code="IN",
                    phone=phone,
                ),
            )
        )
    return customers_bulk_create(workspace_id=workspace_id, rows=rows, actor=Actor.system("demo"))
