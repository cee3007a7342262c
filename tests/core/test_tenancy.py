from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from storesync.core.errors import UnscopedQueryError
from storesync.core.models import Membership
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.customers.models import Customer
from storesync.customers.services import CustomerInput, customer_create
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


def _two_tenants(workspace, other_workspace):
    a = customer_create(
        workspace_id=workspace.workspace.id, actor=ACTOR, data=CustomerInput(first_name="A")
    )
    b = customer_create(
        workspace_id=other_workspace.workspace.id, actor=ACTOR, data=CustomerInput(first_name="B")
    )
    return a, b


def test_unscoped_query_is_refused(workspace):
    with pytest.raises(UnscopedQueryError):
        list(Membership.objects.all())
    with pytest.raises(UnscopedQueryError):
        Customer(first_name="x", workspace_id=workspace.workspace.id).save()


def test_scope_sees_only_its_own_rows(workspace, other_workspace):
    a, b = _two_tenants(workspace, other_workspace)
    with workspace_scope(workspace.workspace.id):
        assert list(Customer.objects.values_list("id", flat=True)) == [a.id]
        assert not Customer.objects.filter(id=b.id).exists()
    with system_scope():
        assert Customer.objects.count() == 2


def test_save_into_another_workspace_is_refused(workspace, other_workspace):
    with workspace_scope(workspace.workspace.id), pytest.raises(UnscopedQueryError):
        Customer(workspace_id=other_workspace.workspace.id, first_name="x").save()


def test_scopes_nest_and_restore(workspace, other_workspace):
    with workspace_scope(workspace.workspace.id):
        with workspace_scope(other_workspace.workspace.id):
            assert Membership.objects.get().workspace_id == other_workspace.workspace.id
        assert Membership.objects.get().workspace_id == workspace.workspace.id


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('storesync.workspace_id', true)")
        return cursor.fetchone()[0]


def test_reentering_the_same_scope_keeps_the_connection_scoped(workspace, other_workspace):
    # A nested scope for the same workspace skips set_config; the database's RLS setting
    # must still be the outer scope's when the inner one ends, and a different scope nested
    # inside it still switches and restores.
    ws, other = workspace.workspace.id, other_workspace.workspace.id
    with workspace_scope(ws):
        with workspace_scope(ws):
            assert Membership.objects.get().workspace_id == ws
            with workspace_scope(other):
                if connection.vendor == "postgresql":
                    assert _setting() == str(other)
            assert Membership.objects.get().workspace_id == ws
        assert Membership.objects.get().workspace_id == ws
        if connection.vendor == "postgresql":
            assert _setting() == str(ws)
    if connection.vendor == "postgresql":
        assert _setting() == ""


def _raw_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"],
        port=s["PORT"] or 5432,
        user=s["USER"],
        dbname=s["NAME"],
        password=s.get("PASSWORD") or None,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rls_hides_every_tenant_row_from_a_raw_query_without_the_setting(
    workspace, other_workspace
):
    if connection.vendor != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    from storesync.core.rls import rls_enforced, tenant_tables

    assert rls_enforced(), "tests must connect as a role that RLS binds (not a superuser)"
    a, _ = _two_tenants(workspace, other_workspace)
    with _raw_connection() as raw:
        for table in tenant_tables():
            assert raw.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0, table
        raw.execute(
            "SELECT set_config('storesync.workspace_id', %s, false)", [str(workspace.workspace.id)]
        )
        ids = [r[0] for r in raw.execute('SELECT id FROM "customers_customer"').fetchall()]
        assert ids == [a.id]
        # Another workspace's rows cannot be changed, nor new ones written into it.
        changed = raw.execute(
            'UPDATE "customers_customer" SET tags = %s WHERE workspace_id = %s RETURNING id',
            ['["x"]', other_workspace.workspace.id],
        ).fetchall()
        assert changed == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute(
                'INSERT INTO "core_membership" (id, workspace_id, user_id, role, '
                "created_at) VALUES (gen_random_uuid(), %s, %s, %s, now())",
                [other_workspace.workspace.id, workspace.owner.id, "owner"],
            )
