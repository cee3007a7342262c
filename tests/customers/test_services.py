from __future__ import annotations

import pytest

from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.customers import selectors, services
from storesync.customers.models import Customer
from tests.conftest import ACTOR


def test_bulk_create_validates_every_row_before_writing(workspace):
    rows = [services.CustomerInput(first_name="A", email="a@example.com"),
            services.CustomerInput(first_name="B", email="not-an-email")]
    with pytest.raises(ValidationError) as err:
        services.customers_bulk_create(workspace_id=workspace.workspace.id, rows=rows,
                                       actor=ACTOR)
    assert err.value.field == "email" and err.value.message.startswith("row 2:")
    with workspace_scope(workspace.workspace.id):
        assert not Customer.objects.exists()


def test_update_moves_the_blind_index_with_the_value(workspace):
    ws = workspace.workspace.id
    created = services.customer_create(workspace_id=ws, actor=ACTOR, data=services.CustomerInput(
        first_name="A", email="old@example.com", phone="+91 98765 43210"))
    services.customer_update(workspace_id=ws, customer_id=created.id, actor=ACTOR,
                             changes={"email": "New@Example.com", "phone": ""})
    assert selectors.customer_find(workspace_id=ws, email="old@example.com") == []
    assert [c.id for c in selectors.customer_find(workspace_id=ws, email="new@example.com")] \
        == [created.id]
    assert selectors.customer_find(workspace_id=ws, phone="+919876543210") == []
    with pytest.raises(ValidationError) as err:
        services.customer_update(workspace_id=ws, customer_id=created.id, actor=ACTOR,
                                 changes={"tags": "x"})
    assert err.value.field == "tags"


def test_pages_are_newest_first_and_complete(workspace):
    ws = workspace.workspace.id
    services.customers_bulk_create(workspace_id=ws, actor=ACTOR, rows=[
        services.CustomerInput(first_name=f"C{i}") for i in range(7)])
    seen, cursor = [], None
    while True:
        page = selectors.customer_list(workspace_id=ws, cursor=cursor, limit=3)
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
