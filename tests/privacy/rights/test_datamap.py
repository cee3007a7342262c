"""The data map: every personal field declared, checked at startup, and reported."""

from __future__ import annotations

import datetime as dt

from django.core import checks

from storesync.privacy import datamap
from storesync.security.fields import EncryptedField


def test_every_encrypted_field_has_a_declared_category():
    assert datamap.check_datamap() == []
    fields = {(e.model, e.field) for e in datamap.entries()}
    assert ("customers.customer", "email") in fields
    assert ("orders.abandonedcheckout", "email_bidx") in fields
    assert ("channels.connection", "credentials") not in fields  # not personal


def test_an_undeclared_category_fails_the_check(monkeypatch):
    from storesync.customers.models import Customer

    field = Customer._meta.get_field("note")
    assert isinstance(field, EncryptedField)
    monkeypatch.setattr(field, "category", "user.shoe_size")
    errors = datamap.check_datamap()
    assert [e.id for e in errors] == ["privacy.E001"]
    assert "customers.Customer.note" in errors[0].msg
    assert any(e.id == "privacy.E001" for e in checks.run_checks(tags=["privacy"]))


def test_no_plain_text_field_looks_personal_unless_allowed_with_a_reason():
    assert datamap.undeclared_plain_fields() == []
    assert all(reason.strip() for reason in datamap.PLAIN_ALLOWED.values())


def test_the_allow_list_names_only_fields_that_exist():
    from django.apps import apps

    for model_label, field_name in datamap.PLAIN_ALLOWED:
        model = apps.get_model(model_label)
        model._meta.get_field(field_name)


def test_erasure_actions_and_legal_hold_are_declared():
    record = {(r["model"], r["field"]): r for r in datamap.processing_record()}
    assert record[("orders.order", "ship_name")]["erasure"] == "keep_for_legal_obligation"
    assert "72 months" in record[("orders.order", "ship_name")]["legal_retention"]
    assert record[("orders.order", "ship_phone")]["erasure"] == "erase"
    assert record[("customers.customer", "email")]["erasure"] == "pseudonymise"


def test_gst_retention_ends_72_months_after_the_annual_return():
    # FY 2025-26 (April 2025 to March 2026): GSTR-9 due 31 Dec 2026, kept until 31 Dec 2032
    assert datamap.gst_invoice_held_until(dt.datetime(2025, 4, 1)) == dt.date(2032, 12, 31)
    assert datamap.gst_invoice_held_until(dt.datetime(2026, 3, 31)) == dt.date(2032, 12, 31)
    assert datamap.gst_invoice_held_until(dt.datetime(2026, 4, 1)) == dt.date(2033, 12, 31)
