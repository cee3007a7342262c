"""Compiled reads and updates: the rows and instances the ORM gives, scoped like the ORM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storesync.catalog.models import Variant
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.compiled_sql import select, tenant_rows, tenant_update
from storesync.core.errors import UnscopedQueryError
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.inventory.models import Location
from storesync.security.models import DataKey
from tests.conftest import ACTOR


def _fields(obj, names):
    return {name: getattr(obj, name) for name in names}


VARIANT_FIELDS = [f.attname for f in Variant._meta.concrete_fields]


def test_rows_equal_what_the_orm_loads(stock):
    ws, _, _, _ = stock
    skus = ["KURTA-M", "KURTA-L", "NO-SUCH-SKU"]
    with workspace_scope(ws):
        fast = {v.sku: v for v in tenant_rows(Variant, where={"sku__in": skus})}
        orm = {v.sku: v for v in Variant.objects.filter(sku__in=skus)}
    assert set(fast) == {"KURTA-M", "KURTA-L"}
    for sku, variant in orm.items():
        # Same values with the same types (UUIDs, datetimes, integers) on both databases.
        assert _fields(fast[sku], VARIANT_FIELDS) == _fields(variant, VARIANT_FIELDS)
        assert type(fast[sku].id) is type(variant.id)
        assert type(fast[sku].created_at) is type(variant.created_at)
        assert not fast[sku]._state.adding


def test_related_fields_come_in_the_same_query_and_others_are_deferred(stock):
    ws, _, _, _ = stock
    with workspace_scope(ws), CaptureQueriesContext(connection) as ctx:
        [variant] = tenant_rows(Variant, where={"sku": "KURTA-M"},
                                related={"product": ("title",)})
        assert variant.product.title == "Cotton Kurta"
        assert len(ctx.captured_queries) == 1
        assert "handle" in variant.product.get_deferred_fields()
        # A deferred field is still readable: the ORM loads it, as after ``only()``.
        assert variant.product.handle
        assert len(ctx.captured_queries) == 2


def test_comparisons_null_order_and_limit(stock):
    ws, _, main, store = stock
    with workspace_scope(ws):
        Location.objects.filter(id=store.id).update(is_active=False)
        oldest = tenant_rows(Location, where={"is_active": True}, order_by=("created_at",),
                             limit=1)
        newest_first = tenant_rows(Location, where={"created_at__lte": timezone.now()},
                                   order_by=("-created_at",))
        none_later = tenant_rows(Location, where={
            "created_at__gt": timezone.now() + timedelta(days=1)})
        with CaptureQueriesContext(connection) as ctx:
            assert tenant_rows(Location, where={"id__in": []}) == []
        assert ctx.captured_queries == []  # nothing can match: nothing is sent
    assert [loc.id for loc in oldest] == [main.id]
    assert [loc.id for loc in newest_first] == [store.id, main.id]
    assert none_later == []
    # Not a tenant model: no scope needed, ``None`` is IS NULL (the system keys).
    system_keys = tenant_rows(DataKey, where={"workspace": None}, fields=("state",))
    assert {k.id for k in system_keys} == set(
        DataKey.objects.filter(workspace__isnull=True).values_list("id", flat=True))


def test_scoped_to_the_workspace_like_the_manager(stock, other_workspace):
    ws, _, _, _ = stock
    other = other_workspace.workspace.id
    product_create(workspace_id=other, actor=ACTOR, data=ProductInput(
        title="Other kurta", options=["Size"],
        variants=[VariantInput(sku="KURTA-M", price_minor=100, options=["M"])]))
    with pytest.raises(UnscopedQueryError):
        tenant_rows(Variant, where={"sku": "KURTA-M"})
    with workspace_scope(ws):
        mine = tenant_rows(Variant, where={"sku": "KURTA-M"})
    with workspace_scope(other):
        theirs = tenant_rows(Variant, where={"sku": "KURTA-M"})
    with system_scope():
        both = tenant_rows(Variant, where={"sku": "KURTA-M"})
    assert [v.workspace_id for v in mine] == [ws]
    assert [v.workspace_id for v in theirs] == [other]
    assert {v.workspace_id for v in both} == {ws, other}


def test_a_selection_can_be_sent_later(stock):
    ws, variants, _, _ = stock
    with workspace_scope(ws):
        selection = select(Variant, where={"sku__in": ["KURTA-L"]}, fields=("sku",))
        assert [v.id for v in selection.run()] == [variants["KURTA-L"].id]
        assert select(Variant, where={"sku__in": []}).statement is None


def test_update_changes_only_matching_rows_of_the_workspace(stock, other_workspace):
    ws, _, main, store = stock
    from storesync.inventory.services import location_create

    theirs = location_create(workspace_id=other_workspace.workspace.id, name="Pune warehouse",
                             actor=ACTOR)
    with workspace_scope(ws):
        changed = tenant_update(Location, where={"name__in": ["Pune warehouse"],
                                                 "is_active": True}, values={"city": "Pune"})
        assert tenant_update(Location, where={"id__in": []}, values={"city": "x"}) == 0
        cities = dict(Location.objects.values_list("id", "city"))
    assert changed == 1
    assert cities == {main.id: "Pune", store.id: ""}
    with workspace_scope(other_workspace.workspace.id):
        assert Location.objects.get(id=theirs.id).city == ""


def test_unsupported_lookups_and_non_columns_are_refused(stock):
    ws, _, _, _ = stock
    with workspace_scope(ws):
        with pytest.raises(ValueError, match="unsupported lookup"):
            tenant_rows(Variant, where={"sku__icontains": "kurta"})
        with pytest.raises(TypeError, match="not a column"):
            tenant_rows(Variant, where={"listings": 1})
