"""Restriction, objection and do-not-sell bind the consent ledger: a subject they cover is
left out of ``consent_allows`` and the marketing audience, with the request named, until the
request is lifted."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.customers.models import Customer
from storesync.privacy import consent, retention, services
from storesync.privacy.children import subject_age_set
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.restrictions import (
    restricted_customer_ids,
    restricted_customers,
    restriction_reason,
)
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import submitted_and_verified

PURPOSES = ("marketing", "analytics", "personalisation", "sale_share")


def _grant_all(ws, subject):
    consent.consent_record_many(
        workspace_id=ws, subject=subject, source="checkout", actor=ACTOR,
        decisions=[consent.Decision(p, "granted") for p in PURPOSES])


@pytest.fixture
def granted(shop):
    """The shop's customer, who granted every purpose at checkout."""
    subject = Subject("customer", str(shop.customer.id))
    _grant_all(shop.ws, subject)
    assert all(consent.consent_allows(workspace_id=shop.ws, subject=subject, purpose=p)
               for p in PURPOSES)
    return subject


def _allowed(ws, subject):
    return {p for p in ("necessary", *PURPOSES)
            if consent.consent_allows(workspace_id=ws, subject=subject, purpose=p)}


@pytest.mark.parametrize(("kind", "still_allowed"), [
    ("restriction", {"necessary"}),
    ("objection", {"necessary", "sale_share"}),
    ("do_not_sell", {"necessary", "analytics", "personalisation"}),
])
def test_each_request_kind_refuses_the_purposes_it_covers(shop, granted, kind, still_allowed):
    request = submitted_and_verified(shop.slug, kind)
    assert _allowed(shop.ws, granted) == still_allowed
    # Staff see why: the refusal names the request, not a bare "no".
    check = consent.consent_check(workspace_id=shop.ws, subject=granted, purpose="marketing")
    assert not check.allowed and f"request {request.id}" in check.reason
    assert consent.consent_subjects_allowing(workspace_id=shop.ws, purpose="marketing") == set()
    audience = consent.consent_audience(workspace_id=shop.ws, purpose="marketing")
    assert audience.excluded == {"restriction": 1, "under_age": 0}


def test_lifting_the_restriction_restores_what_the_ledger_says(shop, granted):
    request = submitted_and_verified(shop.slug, "restriction")
    assert _allowed(shop.ws, granted) == {"necessary"}
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    assert _allowed(shop.ws, granted) == {"necessary", *PURPOSES}
    assert consent.consent_subjects_allowing(workspace_id=shop.ws, purpose="marketing") == {
        granted.id}


def test_a_restriction_binds_a_grant_given_after_it(shop):
    subject = Subject("customer", str(shop.customer.id))
    submitted_and_verified(shop.slug, "objection")
    _grant_all(shop.ws, subject)  # the grant is recorded: it is the person's decision...
    assert consent.consent_current(workspace_id=shop.ws, subject=subject)[
        "marketing"].state == "granted"
    # ...but the objection still binds until lifted.
    assert not consent.consent_allows(workspace_id=shop.ws, subject=subject, purpose="marketing")
    assert consent.consent_subjects_allowing(workspace_id=shop.ws, purpose="marketing") == set()


def test_lifting_an_earlier_request_leaves_a_later_one_standing(shop, granted):
    first = submitted_and_verified(shop.slug, "objection")
    second = submitted_and_verified(shop.slug, "objection")
    services.restriction_lift(workspace_id=shop.ws, request_id=first.id, actor=ACTOR)
    reason = restriction_reason(workspace_id=shop.ws, customer_id=shop.customer.id,
                                purpose="analytics")
    assert reason is not None and f"request {second.id}" in reason
    services.restriction_lift(workspace_id=shop.ws, request_id=second.id, actor=ACTOR)
    assert restriction_reason(workspace_id=shop.ws, customer_id=shop.customer.id,
                              purpose="analytics") is None


def test_every_flag_names_the_request_that_set_it(shop, granted):
    objection = submitted_and_verified(shop.slug, "objection")
    opt_out = submitted_and_verified(shop.slug, "do_not_sell")
    summary = consent.consent_summary(workspace_id=shop.ws, subject=granted)
    assert f"objected to by request {objection.id}" in summary["analytics"].reason
    assert f"opted out of sale/sharing by request {opt_out.id}" in summary["sale_share"].reason
    assert summary["necessary"].allowed and summary["necessary"].reason == ""
    # Lifting the objection leaves do-not-sell in force: marketing is still refused, for it.
    services.restriction_lift(workspace_id=shop.ws, request_id=objection.id, actor=ACTOR)
    summary = consent.consent_summary(workspace_id=shop.ws, subject=granted)
    assert summary["analytics"].allowed
    assert f"request {opt_out.id}" in summary["marketing"].reason


def test_restricted_customer_ids_is_one_database_query(shop):
    submitted_and_verified(shop.slug, "do_not_sell")
    with CaptureQueriesContext(connection) as queries:
        assert restricted_customer_ids(workspace_id=shop.ws, use="sale_or_sharing") == {
            shop.customer.id}
    # One SELECT, filtered by the database (PostgreSQL adds the workspace scope's set_config).
    [select] = [q["sql"] for q in queries.captured_queries if "subjectrestriction" in q["sql"]]
    assert "do_not_sell" in select.split("WHERE", 1)[1]  # the flags are in the filter
    assert restricted_customer_ids(workspace_id=shop.ws, use="analytics") == set()
    # As a subquery, for excluding restricted customers from a report in the database.
    with workspace_scope(shop.ws):
        kept = set(Customer.objects.exclude(id__in=restricted_customers(
            workspace_id=shop.ws, use="marketing")).values_list("id", flat=True))
    assert shop.customer.id not in kept
    with pytest.raises(ValidationError) as refused:
        restricted_customer_ids(workspace_id=shop.ws, use="everything")
    assert refused.value.field == "use"


def test_visitors_and_unknown_ids_are_never_restricted(shop):
    assert restriction_reason(workspace_id=shop.ws, customer_id="not-a-uuid",
                              purpose="marketing") is None
    assert restriction_reason(workspace_id=shop.ws, customer_id=uuid.uuid4(),
                              purpose="marketing") is None
    visitor = Subject("visitor", "visitor-0001")
    consent.consent_record(workspace_id=shop.ws, subject=visitor, purpose="analytics",
                           state="granted", source="storefront_banner", actor=ACTOR)
    assert consent.consent_allows(workspace_id=shop.ws, subject=visitor, purpose="analytics")


def test_children_are_left_out_of_marketing_and_profiling_audiences(shop, granted):
    subject_age_set(workspace_id=shop.ws, subject=granted, under_age=True, actor=ACTOR)
    for purpose in ("marketing", "personalisation", "sale_share"):
        audience = consent.consent_audience(workspace_id=shop.ws, purpose=purpose)
        assert audience.subject_ids == set()
        assert audience.excluded == {"restriction": 0, "under_age": 1}
        reason = consent.consent_check(workspace_id=shop.ws, subject=granted,
                                       purpose=purpose).reason
        assert "minimum age" in reason
    assert consent.consent_allows(workspace_id=shop.ws, subject=granted, purpose="analytics")


def test_retention_keeps_a_request_whose_restriction_is_in_force(shop):
    """Closed requests go after three years, but not one whose restriction still binds: it
    is both the proof and the handle staff lift the restriction by."""
    request = submitted_and_verified(shop.slug, "restriction")
    long_ago = timezone.now() - dt.timedelta(days=3 * 365 + 1)
    with workspace_scope(shop.ws):
        DataSubjectRequest.objects.filter(id=request.id).update(completed_at=long_ago)
    retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR)
    with workspace_scope(shop.ws):
        assert DataSubjectRequest.objects.filter(id=request.id).exists()
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR)
    with workspace_scope(shop.ws):
        assert not DataSubjectRequest.objects.filter(id=request.id).exists()


def test_migration_attributes_existing_flags_to_their_request(shop):
    """Rows written before flags named their request: the latest request's kind says which
    flag it set; an older flag stays unattributed (its reason names no request)."""
    import importlib

    from django.apps import apps

    from storesync.privacy.requests_models import SubjectRestriction

    migration = importlib.import_module("storesync.privacy.migrations.0005_restriction_requests")
    request = submitted_and_verified(shop.slug, "objection")
    with workspace_scope(shop.ws):
        SubjectRestriction.objects.filter(customer_id=shop.customer.id).update(
            restricted=True, objected_by=None)  # as before 0005: only ``request`` was kept

    class Editor:
        def __init__(self):
            self.connection = connection

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    with system_scope():  # the live models refuse unscoped queries; historical ones do not
        migration.attribute(apps, Editor())
    with workspace_scope(shop.ws):
        row = SubjectRestriction.objects.get(customer_id=shop.customer.id)
    assert (row.objected_by_id, row.restricted_by_id) == (request.id, None)
    assert restriction_reason(workspace_id=shop.ws, customer_id=shop.customer.id,
                              purpose="marketing") == (
        "restricted by a privacy request: no marketing until it is lifted")
