"""Restriction, objection, do-not-sell and correction."""

from __future__ import annotations

import pytest

from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.privacy import services, signals
from storesync.privacy.restrictions import restricted_customer_ids, subject_restrictions
from storesync.security.access import personal_data_access
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import EMAIL, submitted_and_verified


def test_restriction_excludes_marketing_analytics_and_sync_until_lifted(shop):
    request = submitted_and_verified(shop.slug, "restriction")
    flags = subject_restrictions(workspace_id=shop.ws, customer_ids=[shop.customer.id])
    assert flags[shop.customer.id].marketing and flags[shop.customer.id].analytics
    assert flags[shop.customer.id].sync_personal_fields
    assert restricted_customer_ids(workspace_id=shop.ws, use="marketing") == {shop.customer.id}
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    assert subject_restrictions(workspace_id=shop.ws, customer_ids=[shop.customer.id]) == {}


def test_objection_and_do_not_sell_set_their_own_flags(shop):
    submitted_and_verified(shop.slug, "objection")
    flags = subject_restrictions(workspace_id=shop.ws, customer_ids=[shop.customer.id])
    mine = flags[shop.customer.id]
    assert mine.marketing and mine.analytics and not mine.sync_personal_fields
    assert not mine.sale_or_sharing
    submitted_and_verified(shop.slug, "do_not_sell")
    mine = subject_restrictions(workspace_id=shop.ws, customer_ids=[shop.customer.id])[
        shop.customer.id]
    assert mine.sale_or_sharing


def test_unknown_email_restriction_completes_without_touching_anyone(shop):
    request = submitted_and_verified(shop.slug, "restriction", email="nobody@example.com")
    assert request.customer_ids == []
    assert subject_restrictions(workspace_id=shop.ws, customer_ids=[shop.customer.id]) == {}


def test_correction_is_applied_by_staff_through_customer_services_and_signalled(shop):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    request = submitted_and_verified(shop.slug, "correction",
                                     details={"last_name": "Iyer-Rao"})
    assert request.status == "pending"  # a name change waits for a person
    from storesync.privacy.selectors import request_details

    assert request_details(request=request, actor=ACTOR) == {"last_name": "Iyer-Rao"}
    signals.correction_requested.connect(receiver)
    try:
        services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    finally:
        signals.correction_requested.disconnect(receiver)
    with workspace_scope(shop.ws), personal_data_access(actor=ACTOR, workspace_id=shop.ws,
                                                        purpose="test"):
        assert Customer.objects.get(id=shop.customer.id).last_name == "Iyer-Rao"


def test_correction_to_the_verified_email_runs_by_itself(shop):
    request = submitted_and_verified(shop.slug, "correction", details={"email": EMAIL.upper()})
    with workspace_scope(shop.ws):
        from storesync.privacy.requests_models import DataSubjectRequest

        assert DataSubjectRequest.objects.get(id=request.id).status == "completed"


def test_only_corrections_carry_field_values(shop):
    with pytest.raises(ValidationError) as info:
        services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="erasure",
                            details={"email": "x@example.com"}, client_ip="192.0.2.1")
    assert info.value.field == "details.email"
    with pytest.raises(ValidationError) as info:
        services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="correction",
                            details={"tags": "vip"}, client_ip="192.0.2.1")
    assert info.value.field == "details.tags"


def test_rejection_needs_a_reason(shop):
    request = submitted_and_verified(shop.slug, "erasure")
    with pytest.raises(ValidationError):
        services.dsr_reject(workspace_id=shop.ws, request_id=request.id, actor=ACTOR, reason="")
    done = services.dsr_reject(workspace_id=shop.ws, request_id=request.id, actor=ACTOR,
                               reason="An order is still being delivered; ask again after.")
    assert done.status == "rejected"


def test_the_requester_hears_how_it_ended(shop):
    from django.core import mail

    rejected = submitted_and_verified(shop.slug, "erasure")
    services.dsr_reject(workspace_id=shop.ws, request_id=rejected.id, actor=ACTOR,
                        reason="An order is still on its way.")
    assert "still on its way" in mail.outbox[-1].body and mail.outbox[-1].to == [EMAIL]
    erased = submitted_and_verified(shop.slug, "erasure")
    services.dsr_approve(workspace_id=shop.ws, request_id=erased.id, actor=ACTOR)
    assert "erased your personal data" in mail.outbox[-1].body
    assert mail.outbox[-1].to == [EMAIL]
