"""Field-encryption cost: create and read N customers (with an address each), encrypted
versus plain text, through the same code paths. Run by ``bench/run.py`` in a subprocess per
database; prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from faker import Faker  # noqa: E402

from plainapp.models import PlainAddress, PlainCustomer  # noqa: E402
from storesync.core.models import normalise_email  # noqa: E402
from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import system_scope, workspace_scope  # noqa: E402
from storesync.customers.models import Address, Customer, normalise_phone  # noqa: E402
from storesync.customers.selectors import customer_find  # noqa: E402
from storesync.customers.services import (  # noqa: E402
    AddressInput,
    CustomerInput,
    _address_values,
    _apply_given_consents,
    _customer_values,
    _region,
    customers_bulk_create,
)
from storesync.security import access, audit  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402

BATCH = 5000
FIELDS = ("first_name", "last_name", "email", "phone", "note")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "phone")
ACTOR = Actor.system("bench")


def rows(n: int) -> list[CustomerInput]:
    fake = Faker("en_IN")
    fake.seed_instance(42)
    out = []
    for i in range(n):
        first, last = fake.first_name(), fake.last_name()
        phone = f"+919{i % 1000:03d}{i:06d}"[:13]
        out.append(CustomerInput(
            first_name=first, last_name=last, email=f"{first}.{last}.{i}@example.com".lower(),
            phone=phone, address=AddressInput(name=f"{first} {last}", line1=fake.street_address(),
                                              city=fake.city(), postcode=fake.postcode(),
                                              province_code="MH", country_code="IN",
                                              phone=phone)))
    return out


def create_plain(workspace_id, data: list[CustomerInput]) -> None:
    """``customers_bulk_create`` step for step, into the plain twins: the same validation
    (the service's own value builders), transaction, bulk inserts and audit event."""
    for start in range(0, len(data), BATCH):
        region = _region(workspace_id)
        with workspace_scope(workspace_id):
            customers, addresses = [], []
            for row in data[start:start + BATCH]:
                customer = PlainCustomer(**_customer_values(workspace_id, region, row))
                _apply_given_consents(customer, row)
                # What the blind-index fields compute from, kept as text instead of an HMAC.
                email, phone = customer.email, customer.phone
                customer.email_bidx = normalise_email(email) or None if email else None
                customer.phone_bidx = normalise_phone(phone) or None if phone else None
                customers.append(customer)
                if row.address:
                    addresses.append(PlainAddress(
                        customer=customer, **_address_values(workspace_id, row.address)))
            with transaction.atomic():
                PlainCustomer.objects.bulk_create(customers, batch_size=1000)
                PlainAddress.objects.bulk_create(addresses, batch_size=1000)
                audit.record(action=audit.Action.CUSTOMER_CREATED, actor=ACTOR,
                             workspace_id=workspace_id, subject_type="customer",
                             detail={"bulk": len(customers)})


def check_twins() -> None:
    """The baseline is only fair while the twins have their models' columns and indexes."""
    for real, twin in ((Customer, PlainCustomer), (Address, PlainAddress)):
        def shape(model):
            return ([f.column for f in model._meta.concrete_fields],
                    sorted(tuple(i.fields) for i in model._meta.indexes),
                    sorted(f.column for f in model._meta.concrete_fields if f.db_index))
        if shape(real) != shape(twin):
            raise SystemExit(f"{twin.__name__} no longer mirrors {real.__name__}: "
                             f"{shape(twin)} != {shape(real)}")


def create_encrypted(workspace_id, data: list[CustomerInput]) -> None:
    for start in range(0, len(data), BATCH):
        customers_bulk_create(workspace_id=workspace_id, rows=data[start:start + BATCH],
                              actor=ACTOR)


def _read(queryset) -> int:
    touched = 0
    for customer in queryset.prefetch_related("addresses").iterator(chunk_size=2000):
        for name in FIELDS:
            touched += getattr(customer, name) is not None
        for address in customer.addresses.all():
            for name in ADDRESS_FIELDS:
                touched += getattr(address, name) is not None
    return touched


def read_plain(workspace_id) -> int:
    with workspace_scope(workspace_id):
        return _read(PlainCustomer.objects.order_by("id"))


def read_encrypted(workspace_id, *, audited: bool) -> int:
    """Decrypt every personal field; ``audited`` adds the per-subject audit events."""
    with workspace_scope(workspace_id):
        if audited:
            with access.personal_data_access(actor=ACTOR, workspace_id=workspace_id,
                                             purpose="customer_support"):
                return _read(Customer.objects.order_by("id"))
        original = access.record_read
        access.record_read = lambda *args: None  # decryption cost alone
        try:
            return _read(Customer.objects.order_by("id"))
        finally:
            access.record_read = original


def lookups(workspace_id, emails: list[str]) -> tuple[list[float], list[float]]:
    plain, encrypted = [], []
    for email in emails:
        t = time.perf_counter()
        with workspace_scope(workspace_id):
            list(PlainCustomer.objects.filter(email_bidx=normalise_email(email))
                 .prefetch_related("addresses")[:50])
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        customer_find(workspace_id=workspace_id, email=email)
        encrypted.append(time.perf_counter() - t)
    return plain, encrypted


def clear() -> None:
    """Empty both variants' tables between repetitions (raw SQL: no ORM cascade walk)."""
    with system_scope(), connection.cursor() as cursor:
        for model in (Address, Customer, PlainAddress, PlainCustomer):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


CPU: dict[str, list[float]] = {}


def timed(fn: Callable[[], object], key: str = "") -> float:
    """Wall seconds; the process's CPU seconds are kept in ``CPU[key]`` as well, because on a
    shared machine wall time also counts other people's work (the database server's CPU is
    not in it: on PostgreSQL, compare both)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    if key:
        CPU.setdefault(key, []).append(time.process_time() - cpu)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("migrate", "--run-syncdb", verbosity=0)
    check_twins()
    # As the web entry points do once the application is loaded (storesync.wsgi, `storesync
    # serve`; ADR 0014): start-up objects leave the cyclic GC, whose full collections would
    # otherwise walk them over and over, in proportion to how much each variant allocates.
    gc.collect()
    gc.freeze()
    ws = workspace_create(slug="bench", name="Bench", owner_email="bench@example.com").workspace.id
    data = rows(args.customers)
    results: dict[str, list[float]] = {k: [] for k in (
        "create_plain", "create_encrypted", "read_plain", "read_decrypt", "read_audited")}
    for _ in range(args.repeat):
        clear()
        results["create_plain"].append(timed(lambda: create_plain(ws, data), "create_plain"))
        results["create_encrypted"].append(
            timed(lambda: create_encrypted(ws, data), "create_encrypted"))
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give
            cursor.execute("ANALYZE")
        results["read_plain"].append(timed(lambda: read_plain(ws), "read_plain"))
        results["read_decrypt"].append(
            timed(lambda: read_encrypted(ws, audited=False), "read_decrypt"))
        results["read_audited"].append(
            timed(lambda: read_encrypted(ws, audited=True), "read_audited"))
    sample = [row.email for row in data[:: max(len(data) // 1000, 1)]][:1000]
    plain_lookup, enc_lookup = lookups(ws, sample)
    median = {k: statistics.median(v) for k, v in results.items()}
    clear()  # peak memory of one batch, untimed (tracemalloc slows everything down)
    batch = data[:BATCH]
    peak = {"plain": peak_mib(lambda: create_plain(ws, batch)),
            "encrypted": peak_mib(lambda: create_encrypted(ws, batch))}
    print(json.dumps({
        "database": connection.vendor, "customers": args.customers, "repeat": args.repeat,
        "seconds": median, "cpu_seconds": {k: statistics.median(v) for k, v in CPU.items()},
        "lookup_p50_ms": {"plain": statistics.median(plain_lookup) * 1000,
                          "encrypted": statistics.median(enc_lookup) * 1000},
        "peak_mib_per_batch": peak, "batch": BATCH,
    }))


if __name__ == "__main__":
    main()
