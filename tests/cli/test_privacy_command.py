"""``storesync privacy retention``: dry run first, then apply; bad input is one clear line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.orders.checkouts import CheckoutInput, CheckoutLineInput, abandoned_checkout_create
from storesync.orders.models import AbandonedCheckout
from tests.conftest import ACTOR


def test_dry_run_then_apply(workspace, capsys):
    ws = workspace.workspace.id
    abandoned_checkout_create(workspace_id=ws, actor=ACTOR, data=CheckoutInput(
        lines=[CheckoutLineInput(sku="X", quantity=1, unit_price_minor=100)],
        abandoned_at=timezone.now() - dt.timedelta(days=120), email="old.cart@example.com"))
    call_command("privacy", "retention", "--dry-run", "--workspace", "acme")
    out = capsys.readouterr().out
    assert "acme: dry run" in out and "orders.abandoned_checkout" in out and "1 due" in out
    with workspace_scope(ws):
        assert AbandonedCheckout.objects.count() == 1
    call_command("privacy", "retention", "--apply", "--workspace", "acme")
    assert "1 disposed of 1 due" in capsys.readouterr().out
    with workspace_scope(ws):
        assert AbandonedCheckout.objects.count() == 0


def test_unknown_workspace_is_an_error(db):
    with pytest.raises(CommandError, match="no workspace"):
        call_command("privacy", "retention", "--apply", "--workspace", "nope")
