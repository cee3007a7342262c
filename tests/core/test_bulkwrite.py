"""Compiled multi-row INSERTs store rows exactly as ``save()`` does, scoped like it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storesync.core.bulkwrite import insert_statements, tenant_bulk_insert
from storesync.core.errors import UnscopedQueryError
from storesync.core.statement_batch import run_statements
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Location
from storesync.orders.models import Order
from storesync.security.access import personal_data_access
from tests.conftest import ACTOR


def _order(ws, number: int, **extra) -> Order:
    return Order(workspace_id=ws, number=number, currency="INR", placed_at=timezone.now(),
                 email="Asha.Rao@Example.com", ship_name="Asha Rao", ship_phone="+919876543210",
                 attention_reasons=["unknown SKU"], needs_attention=True, **extra)


def test_an_inserted_row_reads_back_like_a_saved_one(workspace):
    ws = workspace.workspace.id
    with workspace_scope(ws):
        inserted, saved = _order(ws, 1001), _order(ws, 1002)
        tenant_bulk_insert([inserted])
        saved.save(force_insert=True)
        assert not inserted._state.adding
        with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="order_fulfilment"):
            # Decrypts: the ciphertext was sealed with this row's identity as associated data.
            fresh = Order.objects.get(id=inserted.id)
            assert (fresh.email, fresh.ship_name, fresh.ship_phone) == (
                "Asha.Rao@Example.com", "Asha Rao", "+919876543210")
        twin = Order.objects.get(id=saved.id)
        plain = ["currency", "needs_attention", "attention_reasons", "financial_status",
                 "fulfillment_status", "version", "prices_include_tax"]
        assert {f: getattr(fresh, f) for f in plain} == {f: getattr(twin, f) for f in plain}
        assert fresh.created_at and fresh.updated_at  # auto_now_add / auto_now filled in
        # The blind index is the same as save() computes: a lookup by email finds both.
        index = Order._meta.get_field("email_bidx")
        digests = index.candidates(Order, ws, "asha.rao@example.com")
        assert set(Order.objects.filter(email_bidx__in=digests).values_list("id", flat=True)) \
            == {inserted.id, saved.id}


def test_refused_outside_a_scope_or_into_another_workspace(workspace, other_workspace):
    ws, other = workspace.workspace.id, other_workspace.workspace.id
    with pytest.raises(UnscopedQueryError):
        insert_statements([Location(workspace_id=ws, name="A")])
    with workspace_scope(ws), pytest.raises(UnscopedQueryError):
        insert_statements([Location(workspace_id=other, name="B")])
    with workspace_scope(ws):
        assert not Location.objects.filter(name__in=["A", "B"]).exists()


def test_many_rows_are_split_into_the_batches_the_database_allows(workspace):
    ws = workspace.workspace.id
    rows = [Location(workspace_id=ws, name=f"Store {i}") for i in range(150)]
    with workspace_scope(ws):
        statements = insert_statements(rows)
        with CaptureQueriesContext(connection) as ctx:
            run_statements(statements)
        assert Location.objects.filter(name__startswith="Store ").count() == 150
    # SQLite takes at most 999 parameters a statement (12 columns: 83 rows); PostgreSQL
    # takes them all at once. Several statements still go in one round trip there.
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert len(ctx.captured_queries) == len(statements)
    assert all(not row._state.adding for row in rows)


def test_rows_of_a_failed_insert_stay_unsaved(workspace):
    ws = workspace.workspace.id
    with workspace_scope(ws):
        Location.objects.create(workspace_id=ws, name="Taken")
        rows = [Location(workspace_id=ws, name="Free"), Location(workspace_id=ws, name="Taken")]
        with pytest.raises(IntegrityError), transaction.atomic():
            tenant_bulk_insert(rows)
        assert all(row._state.adding for row in rows)
        assert not Location.objects.filter(name="Free").exists()
