from __future__ import annotations

import pytest
from django.db import connection

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.customers.selectors import customer_find, customer_get
from storesync.customers.services import CustomerInput, customer_create
from storesync.security.access import PersonalDataAccessError, personal_data_access
from storesync.security.audit import Actor
from storesync.security.keyring import DecryptionError
from storesync.security.models import AuditEvent

ACTOR = Actor.system("test")


def _customer(ws_id, email="asha@example.com", phone="+919876543210"):
    return customer_create(
        workspace_id=ws_id,
        actor=ACTOR,
        data=CustomerInput(first_name="Asha", email=email, phone=phone),
    )


def test_personal_field_read_outside_an_access_scope_is_refused(workspace):
    created = _customer(workspace.workspace.id)
    loaded = customer_get(workspace_id=workspace.workspace.id, customer_id=created.id)
    with pytest.raises(PersonalDataAccessError):
        _ = loaded.email


def test_read_inside_scope_decrypts_and_audits_fields_actually_read(workspace):
    ws = workspace.workspace.id
    created = _customer(ws)
    loaded = customer_get(workspace_id=ws, customer_id=created.id)
    with personal_data_access(
        actor=Actor("user", "u1"), workspace_id=ws, purpose="customer_support"
    ):
        assert loaded.email == "asha@example.com"
    event = AuditEvent.objects.get(action="personal_data.read", subject_id=str(created.id))
    assert event.fields == ["customer.email"]
    assert (event.actor_type, event.actor_id, event.purpose) == ("user", "u1", "customer_support")


def test_scope_of_one_workspace_cannot_read_another(workspace, other_workspace):
    created = _customer(workspace.workspace.id)
    loaded = customer_get(workspace_id=workspace.workspace.id, customer_id=created.id)
    with (
        pytest.raises(PersonalDataAccessError),
        personal_data_access(
            actor=ACTOR, workspace_id=other_workspace.workspace.id, purpose="customer_support"
        ),
    ):
        _ = loaded.email


def test_ciphertext_moved_to_another_row_fails_authentication(workspace):
    ws = workspace.workspace.id
    first = _customer(ws, email="first@example.com", phone="+919876500001")
    second = _customer(ws, email="second@example.com", phone="+919876500002")
    table = Customer._meta.db_table
    with workspace_scope(ws), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT email FROM {table} WHERE id = %s",
            [first.id.hex if connection.vendor == "sqlite" else first.id],
        )
        blob = cursor.fetchone()[0]
        cursor.execute(
            f"UPDATE {table} SET email = %s WHERE id = %s",
            [blob, second.id.hex if connection.vendor == "sqlite" else second.id],
        )
    loaded = customer_get(workspace_id=ws, customer_id=second.id)
    with (
        pytest.raises(DecryptionError),
        personal_data_access(actor=ACTOR, workspace_id=ws, purpose="customer_support"),
    ):
        _ = loaded.email


def test_blind_index_lookup_is_exact_and_normalised(workspace, other_workspace):
    ws = workspace.workspace.id
    created = _customer(ws, email="Asha.Rao@Example.com")
    _customer(other_workspace.workspace.id, email="asha.rao@example.com")
    found = customer_find(workspace_id=ws, email="  ASHA.RAO@example.com ")
    assert [c.id for c in found] == [created.id]
    assert customer_find(workspace_id=ws, email="asha.ra@example.com") == []
    assert [c.id for c in customer_find(workspace_id=ws, phone="+91 98765 43210")] == [created.id]


def test_blind_indexes_differ_between_workspaces(workspace, other_workspace):
    a = _customer(workspace.workspace.id)
    b = _customer(other_workspace.workspace.id)
    with workspace_scope(workspace.workspace.id):
        digest_a = Customer.objects.values_list("email_bidx", flat=True).get(id=a.id)
    with workspace_scope(other_workspace.workspace.id):
        digest_b = Customer.objects.values_list("email_bidx", flat=True).get(id=b.id)
    assert digest_a != digest_b  # no linking of the same person across tenants


def test_saving_unchanged_row_needs_no_decryption(workspace):
    ws = workspace.workspace.id
    created = _customer(ws)
    loaded = customer_get(workspace_id=ws, customer_id=created.id)
    with workspace_scope(ws):
        loaded.tags = ["vip"]
        loaded.save()
    assert customer_find(workspace_id=ws, email="asha@example.com")[0].tags == ["vip"]


def test_filtering_on_an_encrypted_field_is_refused(workspace):
    with workspace_scope(workspace.workspace.id), pytest.raises(TypeError):
        list(Customer.objects.filter(email="asha@example.com"))


def test_descriptor_and_rotation_bind_the_same_associated_data(workspace):
    from storesync.security.fields import _row_identity, row_aad

    created = _customer(workspace.workspace.id)
    field = Customer._meta.get_field("email")
    assert field.aad_prefix(created) + _row_identity(created) == row_aad(
        "customers.customer", "email", created.pk, created.workspace_id)


def test_a_copied_row_gets_its_own_binding(workspace):
    """Copying a row (pk = None) after it was saved binds fresh values to the new id."""
    ws = workspace.workspace.id
    created = _customer(ws)  # its row identity is cached by the first save
    with workspace_scope(ws):
        created.pk = None
        for name in ("last_name", "email", "phone", "note"):
            setattr(created, name, None)
        created.first_name = "Copy"
        created.save()
    loaded = customer_get(workspace_id=ws, customer_id=created.pk)
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="customer_support"):
        assert loaded.first_name == "Copy"


def test_bulk_created_rows_take_the_array_insert_and_read_back(workspace):
    """Encrypted columns must not opt out of PostgreSQL's one-array-per-column bulk insert
    (ADR 0014), and what bulk_create wrote must decrypt and be found by blind index."""
    from django.test.utils import CaptureQueriesContext

    from storesync.customers.services import AddressInput, customers_bulk_create

    ws = workspace.workspace.id
    rows = [CustomerInput(first_name=f"Ravi {i}", email=f"ravi{i}@example.com",
                          phone=f"+9198765432{i:02d}",
                          address=AddressInput(line1=f"{i} MG Road", city="Pune",
                                               postcode="411001", province_code="MH"))
            for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert customers_bulk_create(workspace_id=ws, rows=rows, actor=ACTOR) == 5
    inserts = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('INSERT INTO "customers_')]
    assert len(inserts) == 2  # one statement per table for the whole batch
    if connection.vendor == "postgresql":
        assert all("UNNEST" in sql for sql in inserts)
    found = customer_find(workspace_id=ws, email="RAVI3@example.com")
    assert len(found) == 1
    with workspace_scope(ws), personal_data_access(actor=ACTOR, workspace_id=ws,
                                                   purpose="customer_support"):
        loaded = Customer.objects.prefetch_related("addresses").get(id=found[0].id)
        assert (loaded.first_name, loaded.phone) == ("Ravi 3", "+919876543203")
        assert loaded.addresses.get().line1 == "3 MG Road"


def test_a_value_read_in_one_scope_is_audited_again_in_the_next(workspace):
    """Reads are remembered per instance and scope: a later scope audits its own reads, and
    after the scope ends the decrypted value is refused again."""
    ws = workspace.workspace.id
    created = _customer(ws)
    loaded = customer_get(workspace_id=ws, customer_id=created.id)
    for actor_id in ("u1", "u2"):
        with personal_data_access(actor=Actor("user", actor_id), workspace_id=ws,
                                  purpose="customer_support"):
            assert loaded.email == "asha@example.com"
            assert loaded.first_name == "Asha"
    events = AuditEvent.objects.filter(action="personal_data.read",
                                       subject_id=str(created.id)).order_by("seq")
    assert [(e.actor_id, e.fields) for e in events] == [
        ("u1", ["customer.email", "customer.first_name"]),
        ("u2", ["customer.email", "customer.first_name"]),
    ]
    with pytest.raises(PersonalDataAccessError):
        _ = loaded.email


def test_a_remembered_read_does_not_outlive_a_change_of_workspace(workspace, other_workspace):
    ws = workspace.workspace.id
    loaded = customer_get(workspace_id=ws, customer_id=_customer(ws).id)
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="customer_support"):
        assert loaded.email == "asha@example.com"
        loaded.workspace_id = other_workspace.workspace.id
        with pytest.raises(PersonalDataAccessError):
            _ = loaded.email


def test_a_loaded_value_stays_ciphertext_after_it_is_read(workspace):
    """Reads decrypt and hand the plaintext over; the instance keeps only the ciphertext."""
    ws = workspace.workspace.id
    loaded = customer_get(workspace_id=ws, customer_id=_customer(ws).id)
    stored = loaded.__dict__["email"]
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="customer_support"):
        assert loaded.email == "asha@example.com"
        assert loaded.email == "asha@example.com"  # a second read decrypts again
    assert type(loaded.__dict__["email"]) is bytes and loaded.__dict__["email"] == bytes(stored)
    assert "asha" not in repr(loaded.__dict__)
    with pytest.raises(PersonalDataAccessError):  # nothing cached outlives the block
        _ = loaded.email


def test_sealed_values_never_show_their_plaintext(workspace):
    from storesync.security.fields import Sealed

    ws = workspace.workspace.id
    customer = _customer(ws)  # just written: the values are kept sealed with their plaintext
    sealed = customer.__dict__["email"]
    assert type(sealed) is Sealed
    assert sealed.plain == "asha@example.com" and sealed.blob[0] == 1
    assert "asha" not in repr(sealed) and "asha" not in str(sealed)
    assert "asha" not in repr(customer.__dict__)
