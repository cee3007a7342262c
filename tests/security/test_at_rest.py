"""Dump the raw database after creating customers: no name, email or phone in clear."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.customers.services import AddressInput, CustomerInput, customers_bulk_create
from storesync.security.audit import Actor

PEOPLE = [
    ("Zenobia", "Quillfeather", "zenobia.quillfeather@example.com", "+919812345671", "Quillpur"),
    ("Bartholomew", "Xylander", "bart.xylander@example.org", "+919812345672", "Xylanagar"),
]


def _create(workspace_id) -> int:
    return customers_bulk_create(
        workspace_id=workspace_id,
        actor=Actor.system("test"),
        rows=[
            CustomerInput(
                first_name=f,
                last_name=last,
                email=e,
                phone=p,
                address=AddressInput(
                    line1=f"7 {last} Lane", city=c, postcode="560001", country_code="IN"
                ),
            )
            for f, last, e, p, c in PEOPLE
        ],
    )


def _needles() -> list[bytes]:
    out = []
    for first, last, email, phone, city in PEOPLE:
        out += [
            first.encode(),
            last.encode(),
            email.encode(),
            email.split("@")[0].encode(),
            phone.encode(),
            phone[3:].encode(),
            city.encode(),
        ]
    return out


def _sqlite_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "dump.db"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(target)])
        data = target.read_bytes()
        for extra in ("-wal", "-shm"):
            wal = Path(str(target) + extra)
            if wal.exists():
                data += wal.read_bytes()
        return data


def _pg_dump() -> bytes:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is not installed")
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    # A superuser dumps every row; the application role would see none of them under RLS.
    user = os.environ.get("STORESYNC_PG_DUMP_USER", "postgres")
    cmd = [
        pg_dump,
        "--data-only",
        "-h",
        settings["HOST"] or "127.0.0.1",
        "-p",
        str(settings["PORT"] or 5432),
        "-U",
        user,
        settings["NAME"],
    ]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120).stdout


@pytest.mark.django_db(transaction=True)
def test_raw_database_holds_no_personal_data_in_clear(workspace):
    _create(workspace.workspace.id)
    with workspace_scope(workspace.workspace.id):
        ids = list(Customer.objects.values_list("id", flat=True))
    raw = _sqlite_bytes() if connection.vendor == "sqlite" else _pg_dump()
    # The dump really holds the customer rows, and clear text is visible to this check.
    assert len(ids) == len(PEOPLE)
    for cid in ids:
        assert (cid.hex if connection.vendor == "sqlite" else str(cid)).encode() in raw
    assert b"Acme Traders" in raw
    found = [n.decode() for n in _needles() if n in raw or n.lower() in raw.lower()]
    assert found == []
