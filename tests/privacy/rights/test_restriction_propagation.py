"""GDPR Art. 19 for restrictions: a restriction (and an objection, and a do-not-sell request)
and its lifting plan one propagation row per recipient of the subject's data, in the
transaction of the local change, sent after commit with the engine's retries; the request
completes when every recipient confirmed."""

from __future__ import annotations

from typing import Any

import pytest

from storesync.channels.models import Connection
from storesync.core.errors import Conflict
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order
from storesync.privacy import propagation, services, signals
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    Propagation,
    RequestStatus,
    SubjectRestriction,
)
from storesync.privacy.restrictions import restriction_wanted
from storesync.security.audit import AuditEvent
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import submitted_and_verified


@pytest.fixture
def recipients(shop) -> tuple[Connection, Processor]:
    """One of the shop's orders came through a connection; a courier got the other."""
    with workspace_scope(shop.ws):
        conn = Connection.objects.create(workspace_id=shop.ws, platform="shopify", name="Shop")
        Order.objects.filter(id=shop.orders[0].id).update(connection_id=conn.id)
        courier = Processor.objects.get(kind="courier", builtin=True)
    share_payload(processor=courier, record=shop.orders[1], actor=ACTOR)
    return conn, courier


class Listener:
    """A recipient that confirms every row it hears of, as the channels app does."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, sender: Any, **kwargs: Any) -> bool:
        self.heard.append((kwargs["propagation_id"], kwargs))
        propagation.propagation_record_result(
            workspace_id=kwargs["workspace_id"], propagation_id=kwargs["propagation_id"],
            ok=True, note=f"told {kwargs['recipient_type']}")
        return True


@pytest.fixture
def listener():
    """Connected to both restriction signals, after the channels receiver (which fails on
    the test connection, which has no credentials, before this one confirms)."""
    heard = Listener()
    signals.restriction_requested.connect(heard)
    signals.restriction_lift_requested.connect(heard)
    yield heard
    signals.restriction_requested.disconnect(heard)
    signals.restriction_lift_requested.disconnect(heard)


def _rows(ws, request) -> set[tuple[str, str, str, str]]:
    with workspace_scope(ws):
        return {(r.recipient_type, r.recipient_id, r.action, r.state)
                for r in Propagation.objects.filter(request_id=request.id)}


def _request(ws, request) -> DataSubjectRequest:
    with workspace_scope(ws):
        return DataSubjectRequest.objects.get(id=request.id)


@pytest.mark.parametrize("kind", ["restriction", "objection", "do_not_sell"])
def test_each_restricting_kind_plans_a_row_per_recipient(shop, recipients, kind):
    conn, courier = recipients
    request = submitted_and_verified(shop.slug, kind)  # runs by itself once verified
    # Nobody confirmed: the connection has no credentials, the courier no privacy contact.
    assert _rows(shop.ws, request) == {("connection", str(conn.id), "restriction", "pending"),
                                       ("processor", str(courier.id), "restriction", "waiting")}
    stored = _request(shop.ws, request)
    assert stored.status == RequestStatus.IN_PROGRESS and stored.local_done_at
    assert stored.outcome["recipients"] == 2
    # The restriction binds here at once; the recipients are told, not waited for.
    with workspace_scope(shop.ws):
        assert SubjectRestriction.objects.get(customer_id=shop.customer.id).request_id == \
            request.id
        row = Propagation.objects.get(request_id=request.id, recipient_type="processor")
    assert row.attempts == 1 and "no privacy contact on file" in row.last_error


def test_without_recipients_the_restriction_completes_at_once(shop):
    request = submitted_and_verified(shop.slug, "restriction")
    assert _rows(shop.ws, request) == set()
    stored = _request(shop.ws, request)
    assert stored.status == RequestStatus.COMPLETED and stored.outcome["recipients"] == 0


def test_the_flag_and_the_rows_commit_together(shop, recipients, monkeypatch):
    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(propagation, "plan", boom)
    request = submitted_and_verified(shop.slug, "restriction")  # the job fails
    with workspace_scope(shop.ws):
        assert not SubjectRestriction.objects.filter(restricted=True).exists()
    assert _request(shop.ws, request).local_done_at is None
    assert _rows(shop.ws, request) == set()


def test_confirmed_rows_complete_the_request_and_are_audited(shop, recipients, listener):
    conn, courier = recipients
    request = submitted_and_verified(shop.slug, "restriction")
    assert _rows(shop.ws, request) == {
        ("connection", str(conn.id), "restriction", "succeeded"),
        ("processor", str(courier.id), "restriction", "succeeded")}
    assert _request(shop.ws, request).status == RequestStatus.COMPLETED
    kwargs = listener.heard[0][1]
    assert kwargs["request_id"] == request.id and kwargs["customer_ids"] == [
        str(shop.customer.id)]
    with workspace_scope(shop.ws):
        notes = set(Propagation.objects.filter(request_id=request.id)
                    .values_list("note", flat=True))
        results = list(AuditEvent.objects.filter(action="privacy.propagation_result",
                                                 subject_id=str(request.id)))
    assert notes == {"told connection", "told processor"}
    assert sorted(e.detail["action"] for e in results if e.detail["ok"]) == [
        "restriction", "restriction"]


def test_lifting_plans_lift_rows_and_sends_them_after_commit(shop, recipients, listener):
    conn, courier = recipients
    request = submitted_and_verified(shop.slug, "restriction")
    heard_before = len(listener.heard)
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)

    assert {(t, i, a) for t, i, a, s in _rows(shop.ws, request) if s == "succeeded"} == {
        ("connection", str(conn.id), "restriction"), ("processor", str(courier.id),
                                                      "restriction"),
        ("connection", str(conn.id), "restriction_lift"),
        ("processor", str(courier.id), "restriction_lift")}
    assert len(listener.heard) == heard_before + 2
    stored = _request(shop.ws, request)
    # A closed request stays closed: the lift's rows are followed on its page.
    assert stored.status == RequestStatus.COMPLETED and stored.outcome["lift_recipients"] == 2
    with workspace_scope(shop.ws):
        lifted = AuditEvent.objects.get(action="privacy.restriction_changed",
                                        subject_id=str(request.id), detail__lifted="restricted")
    assert lifted.detail["recipients"] == 2
    # What a late restriction row would now tell: nothing stands.
    wanted = restriction_wanted(request=stored, action="restriction")
    assert wanted.flags == frozenset() and not wanted.uses.any


def test_a_restriction_still_being_told_can_be_lifted_once(shop, recipients):
    request = submitted_and_verified(shop.slug, "objection")
    assert _request(shop.ws, request).status == RequestStatus.IN_PROGRESS
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    assert {a for _, _, a, _ in _rows(shop.ws, request)} == {"restriction",
                                                               "restriction_lift"}
    with pytest.raises(Conflict, match="already lifted"):
        services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)


def test_a_later_request_keeps_its_flag_in_what_recipients_are_told(shop):
    first = submitted_and_verified(shop.slug, "restriction")
    second = submitted_and_verified(shop.slug, "objection")
    services.restriction_lift(workspace_id=shop.ws, request_id=first.id, actor=ACTOR)
    wanted = restriction_wanted(request=_request(shop.ws, first), action="restriction_lift")
    assert wanted.flags == {"objected"} and wanted.uses.marketing
    assert not wanted.uses.sync_personal_fields  # only the restriction covered that
    assert restriction_wanted(request=_request(shop.ws, second),
                              action="restriction").flags == {"objected"}


def test_a_failing_recipient_is_retried_with_backoff_then_failed(shop, recipients):
    conn, _ = recipients

    def broken(sender: Any, **kwargs: Any) -> None:
        raise ConnectionError("platform down")

    signals.restriction_requested.connect(broken)
    try:
        request = submitted_and_verified(shop.slug, "restriction")
        with workspace_scope(shop.ws):
            row = Propagation.objects.get(request_id=request.id, recipient_id=str(conn.id))
        assert "platform down" in row.last_error and row.state == "pending"
        first_due = row.next_attempt_at
        propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
        with workspace_scope(shop.ws):
            again = Propagation.objects.get(id=row.id)
        assert again.attempts == 2 and again.next_attempt_at > first_due
        for _ in range(propagation.MAX_ATTEMPTS):
            propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
    finally:
        signals.restriction_requested.disconnect(broken)
    with workspace_scope(shop.ws):
        assert Propagation.objects.get(id=row.id).state == "failed"
    assert _request(shop.ws, request).status == RequestStatus.IN_PROGRESS


def test_an_unknown_action_is_refused_at_planning(shop):
    request = submitted_and_verified(shop.slug, "restriction")
    with pytest.raises(ValueError, match="unknown propagation action"):
        propagation.plan(_request(shop.ws, request), None, action="suspension")  # type: ignore[arg-type]
