"""Breaches: affected subjects from stored data and audited reads, the 72-hour deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as dj_timezone

from storesync.core.errors import NotFound, ValidationError
from storesync.customers.selectors import customer_get, customer_reveal
from storesync.privacy import breaches
from tests.conftest import ACTOR
from tests.privacy.conftest import make_customer

IST = timezone(timedelta(hours=5, minutes=30))


def _data(**overrides):
    now = dj_timezone.now()
    data = {"title": "Leaked export", "description": "A CSV export was emailed to a stranger.",
            "categories": ["user.contact.email"], "window_start": now - timedelta(days=1),
            "window_end": now, "discovered_at": now - timedelta(hours=2),
            "contact": "privacy@acme.example"}
    data.update(overrides)
    return data


def test_affected_subjects_and_drafted_notices(ws, customer):
    customer = customer_get(workspace_id=ws, customer_id=customer.id)
    customer_reveal(customers=[customer], actor=ACTOR, purpose="customer_support")
    breach = breaches.breach_record(workspace_id=ws, data=_data(), actor=ACTOR)
    subjects = breaches.breach_subjects(workspace_id=ws, breach_id=breach.id)
    assert [(s.subject_id, s.reason) for s in subjects if s.subject_type == "customer"] == [
        (str(customer.id), "accessed")]
    assert breach.affected_count == len(subjects)
    assert "Approximate number of data subjects" in breach.authority_notice
    assert "privacy@acme.example" in breach.subject_notice
    assert "user.contact.email" in breach.subject_notice


def test_customers_created_after_the_window_are_not_affected(ws, customer):
    breach = breaches.breach_record(workspace_id=ws, actor=ACTOR, data=_data(
        window_start=dj_timezone.now() - timedelta(days=3),
        window_end=dj_timezone.now() - timedelta(days=2),
        discovered_at=dj_timezone.now() - timedelta(days=1)))
    subjects = breaches.breach_subjects(workspace_id=ws, breach_id=breach.id)
    assert str(customer.id) not in {s.subject_id for s in subjects}


def test_deadline_is_72_hours_after_discovery_in_utc(ws):
    discovered = datetime(2026, 11, 20, 9, 30, tzinfo=IST)
    breach = breaches.breach_record(workspace_id=ws, actor=ACTOR, data=_data(
        window_start=discovered - timedelta(days=1), window_end=discovered,
        discovered_at=discovered))
    deadline = breaches.breach_get(workspace_id=ws, breach_id=breach.id).authority_deadline
    assert deadline.astimezone(UTC) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert breach.overdue(now=datetime(2026, 11, 23, 4, 1, tzinfo=UTC))
    assert not breach.overdue(now=datetime(2026, 11, 23, 3, 59, tzinfo=UTC))


def test_notices_are_edited_then_frozen_once_sent(ws):
    breach = breaches.breach_record(workspace_id=ws, data=_data(), actor=ACTOR)
    breaches.breach_notice_edit(workspace_id=ws, breach_id=breach.id, kind="authority",
                                text="Edited notice", actor=ACTOR)
    breaches.breach_notice_mark_sent(workspace_id=ws, breach_id=breach.id, kind="authority",
                                     actor=ACTOR)
    with pytest.raises(ValidationError):
        breaches.breach_notice_edit(workspace_id=ws, breach_id=breach.id, kind="authority",
                                    text="Changed after sending", actor=ACTOR)
    done = breaches.breach_notice_mark_sent(workspace_id=ws, breach_id=breach.id,
                                            kind="subjects", actor=ACTOR)
    assert done.status == "notified" and done.authority_notice == "Edited notice"
    assert not done.overdue()


def test_bad_input_and_isolation(ws, other_workspace):
    with pytest.raises(ValidationError) as exc:
        breaches.breach_record(workspace_id=ws, actor=ACTOR, data=_data(categories=["x"]))
    assert exc.value.field == "categories"
    with pytest.raises(ValidationError) as exc:
        breaches.breach_record(workspace_id=ws, actor=ACTOR, data=_data(
            window_end=dj_timezone.now() - timedelta(days=5)))
    assert exc.value.field == "window_end"
    theirs_customer = make_customer(other_workspace.workspace.id)
    mine = breaches.breach_record(workspace_id=ws, data=_data(), actor=ACTOR)
    ids = {s.subject_id for s in breaches.breach_subjects(workspace_id=ws, breach_id=mine.id)}
    assert str(theirs_customer.id) not in ids
    with pytest.raises(NotFound):
        breaches.breach_get(workspace_id=other_workspace.workspace.id, breach_id=mine.id)
