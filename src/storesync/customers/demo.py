"""Generated demo customers (Faker, Indian locale): believable, never real people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from faker import Faker

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.customers.services import AddressInput, CustomerInput, customers_bulk_create
from storesync.security import keyring
from storesync.security.audit import Actor
from storesync.security.fields import BlindIndexField

# ISO 3166-2:IN subdivision codes (the GST state codes map onto these), roughly weighted by
# where online orders come from.
STATES = ["MH", "MH", "KA", "KA", "TN", "DL", "DL", "GJ", "UP", "WB", "TG", "RJ", "KL", "PB",
          "HR", "HR"]


@dataclass(frozen=True)
class DemoCustomer:
    """A generated customer as the order generator needs it: the inputs, and the stored id.

    Kept in memory by the generator that made them, so no personal data is read back."""

    id: uuid.UUID
    email: str
    address: AddressInput


def fake_address(fake: Faker, name: str, phone: str) -> AddressInput:
    return AddressInput(
        name=name, line1=fake.street_address(), city=fake.city(), postcode=fake.postcode(),
        province_code=fake.random_element(STATES), country_code="IN", phone=phone,
    )


def fake_phone(fake: Faker) -> str:
    return f"+91{fake.random_element('6789')}{fake.numerify('#########')}"


def generate_customers(*, workspace_id: uuid.UUID, count: int,
                       seed: int | None = None) -> list[DemoCustomer]:
    """Create ``count`` customers with one address each (encrypted, in one transaction)."""
    fake = Faker("en_IN")
    if seed is not None:
        fake.seed_instance(seed)
    rows, addresses = [], []
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        phone = fake_phone(fake)
        addresses.append(fake_address(fake, f"{first} {last}", phone))
        rows.append(
            CustomerInput(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{index}@example.com".lower().replace(" ", ""),
                phone=phone,
                tags=list(fake.random_elements(
                    ["vip", "wholesale", "repeat", "new"], unique=True, length=fake.random_int(0, 2)
                )),
                address=addresses[-1],
            )
        )
    customers_bulk_create(workspace_id=workspace_id, rows=rows, actor=Actor.system("demo"))
    ids = _ids_by_email(workspace_id, [row.email for row in rows])
    return [DemoCustomer(ids[row.email], row.email, address)
            for row, address in zip(rows, addresses, strict=True)]


def _ids_by_email(workspace_id: uuid.UUID, emails: list[str]) -> dict[str, uuid.UUID]:
    """Stored ids of just-created customers, found by blind index (nothing is decrypted)."""
    field = Customer._meta.get_field("email_bidx")
    assert isinstance(field, BlindIndexField)
    with workspace_scope(workspace_id):
        key_id = keyring.get().active_key_id(workspace_id)
        digests = {field.compute(Customer, email, key_id=key_id): email for email in emails}
        found: dict[str, uuid.UUID] = {}
        keys = list(digests)
        for start in range(0, len(keys), 500):
            rows = Customer.objects.filter(email_bidx__in=keys[start:start + 500])
            for customer_id, digest in rows.values_list("id", "email_bidx"):
                found[digests[bytes(digest)]] = customer_id
    return found
