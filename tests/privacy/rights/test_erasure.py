"""Erasure: complete, atomic, legal holds kept, propagated until confirmed, resumable."""

from __future__ import annotations

import uuid

from django.db import connection

from storesync.channels.models import Connection
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Address, Customer
from storesync.customers.services import CustomerInput, customer_create
from storesync.orders.models import AbandonedCheckout, Order
from storesync.privacy import erasure, propagation, rights_tasks, services, signals
from storesync.privacy.datamap import gst_invoice_held_until
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    LegalHold,
    Propagation,
    RequestStatus,
)
from storesync.security.fields import ciphertext
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import EMAIL, make_order, submitted_and_verified


def _approve(shop, request):
    return services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)


def _reload(ws, model, pk):
    with workspace_scope(ws):
        return model.objects.get(pk=pk)


def _raw_bytes_of(table: str) -> list[bytes]:
    """Every value of every binary column of ``table``, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return [bytes(v) for row in cursor.fetchall() for v in row
                if isinstance(v, bytes | memoryview)]


def test_erasure_waits_for_staff_then_erases_everything(shop):
    request = submitted_and_verified(shop.slug, "erasure")
    assert request.status == RequestStatus.PENDING
    with workspace_scope(shop.ws):
        old_bidx = ciphertext(Customer.objects.get(id=shop.customer.id).email_bidx)
    _approve(shop, request)
    done = _reload(shop.ws, DataSubjectRequest, request.id)
    assert done.status == RequestStatus.COMPLETED  # no channel received the data
    with workspace_scope(shop.ws):
        customer = Customer.objects.get(id=shop.customer.id)
        for name in ("first_name", "last_name", "email", "phone", "note", "email_bidx",
                     "phone_bidx"):
            assert customer.__dict__[name] is None, name
        assert not Address.objects.filter(customer_id=shop.customer.id).exists()
        assert not AbandonedCheckout.objects.filter(id=shop.checkout.id).exists()
        small, b2b = (Order.objects.get(id=o.id) for o in shop.orders)
        assert all(small.__dict__[f] is None for f in erasure.ORDER_PERSONAL)
        # the B2B invoice keeps the recipient's name and address, nothing more
        assert b2b.__dict__["email"] is None and b2b.__dict__["ship_phone"] is None
        assert b2b.__dict__["ship_name"] is not None
        hold = LegalHold.objects.get(record_id=b2b.id)
        assert hold.held_until == gst_invoice_held_until(b2b.placed_at)
        assert "CGST" in hold.reason and not LegalHold.objects.filter(record_id=small.id)
    # no trace of the old email's blind index anywhere in the raw database
    for table in ("customers_customer", "orders_order", "orders_abandonedcheckout",
                  "privacy_datasubjectrequest"):
        assert old_bidx not in _raw_bytes_of(table), table
    assert done.outcome["erased"]["customers"] == 1
    assert done.outcome["legal_holds"] == 1


def test_a_failure_midway_changes_nothing(shop, monkeypatch):
    request = submitted_and_verified(shop.slug, "erasure")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    # the last step fails: orders, checkouts and customers were already changed by then
    monkeypatch.setattr(erasure, "_steps", {"explode": boom})
    _approve(shop, request)  # the job fails (logged; retried by the worker)
    with workspace_scope(shop.ws):
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is not None
        assert Order.objects.filter(email_bidx__isnull=False).count() == 2
        assert AbandonedCheckout.objects.filter(id=shop.checkout.id).exists()
        assert not LegalHold.objects.exists()
        stored = DataSubjectRequest.objects.get(id=request.id)
    assert stored.status == RequestStatus.IN_PROGRESS and stored.local_done_at is None


def test_an_interrupted_erasure_resumes(shop, monkeypatch):
    request = submitted_and_verified(shop.slug, "erasure")
    monkeypatch.setattr(erasure, "_steps", {"crash": lambda *a: 1 / 0})
    _approve(shop, request)  # the job dies
    assert _reload(shop.ws, DataSubjectRequest, request.id).local_done_at is None
    monkeypatch.setattr(erasure, "_steps", {})
    with workspace_scope(shop.ws):  # pretend the job died 11 minutes ago
        DataSubjectRequest.objects.filter(id=request.id).update(
            received_at=request.received_at.replace(year=request.received_at.year - 1))
    assert rights_tasks.resume_requests.call_local() == 1
    assert _reload(shop.ws, DataSubjectRequest, request.id).status == RequestStatus.COMPLETED
    with workspace_scope(shop.ws):
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is None


def test_a_1000_order_subject_erases_in_few_statements(shop, django_assert_max_num_queries):
    """Bulk copies of one order (ciphertext copied as is: erasure never decrypts)."""
    with workspace_scope(shop.ws):
        raw = dict(Order.objects.filter(id=shop.orders[0].id).values()[0])
        Order.objects.bulk_create([
            Order(**{**raw, "id": uuid.uuid4(), "number": 9000 + n}) for n in range(1000)],
            batch_size=500)
    request = submitted_and_verified(shop.slug, "erasure")
    with django_assert_max_num_queries(80):
        _approve(shop, request)
    with workspace_scope(shop.ws):
        assert not Order.objects.filter(email_bidx__isnull=False).exists()


def _connection(ws) -> Connection:
    with workspace_scope(ws):
        return Connection.objects.create(workspace_id=ws, platform="shopify", name="Shop")


def test_propagation_stays_pending_until_the_channel_confirms(shop):
    conn = _connection(shop.ws)
    with workspace_scope(shop.ws):
        Order.objects.filter(id=shop.orders[0].id).update(connection_id=conn.id)
    request = submitted_and_verified(shop.slug, "erasure")
    _approve(shop, request)
    with workspace_scope(shop.ws):
        row = Propagation.objects.get(request_id=request.id)
    # the channels receiver took it and could not reach a shop without credentials
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert _reload(shop.ws, DataSubjectRequest, request.id).status == RequestStatus.IN_PROGRESS

    calls = []

    def channel(sender, **kwargs):
        calls.append(kwargs)
        propagation.propagation_record_result(workspace_id=kwargs["workspace_id"],
                                              propagation_id=kwargs["propagation_id"], ok=True)

    signals.erasure_requested.connect(channel)
    try:
        propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
    finally:
        signals.erasure_requested.disconnect(channel)
    assert calls and calls[0]["recipient_id"] == str(conn.id)
    assert _reload(shop.ws, Propagation, row.id).state == "succeeded"
    assert _reload(shop.ws, DataSubjectRequest, request.id).status == RequestStatus.COMPLETED


def test_a_failing_receiver_is_retried_then_marked_failed(shop):
    conn = _connection(shop.ws)
    with workspace_scope(shop.ws):
        Order.objects.filter(id=shop.orders[0].id).update(connection_id=conn.id)

    def broken(sender, **kwargs):
        raise ConnectionError("platform down")

    signals.erasure_requested.connect(broken)
    try:
        request = submitted_and_verified(shop.slug, "erasure")
        _approve(shop, request)
        with workspace_scope(shop.ws):
            row = Propagation.objects.get(request_id=request.id)
        assert "platform down" in row.last_error and row.state == "pending"
        for _ in range(propagation.MAX_ATTEMPTS):
            propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
    finally:
        signals.erasure_requested.disconnect(broken)
    assert _reload(shop.ws, Propagation, row.id).state == "failed"
    assert _reload(shop.ws, DataSubjectRequest, request.id).status == RequestStatus.IN_PROGRESS


def test_platform_requests_are_idempotent_per_event(shop):
    conn = _connection(shop.ws)
    first = services.request_from_platform(workspace_id=shop.ws, connection_id=conn.id,
                                           topic="customers/redact", event_id="evt-1",
                                           email=EMAIL)
    again = services.request_from_platform(workspace_id=shop.ws, connection_id=conn.id,
                                           topic="customers/redact", event_id="evt-1",
                                           email=EMAIL)
    assert first.id == again.id and first.kind == "erasure"
    with workspace_scope(shop.ws):
        assert DataSubjectRequest.objects.filter(source="platform").count() == 1
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is None
        assert Propagation.objects.filter(request_id=first.id,
                                          recipient_id=str(conn.id)).exists()
    access = services.request_from_platform(workspace_id=shop.ws, connection_id=conn.id,
                                            topic="customers/data_request", event_id="evt-2",
                                            email="someone@example.com")
    assert access.kind == "access"


def test_shop_redact_erases_every_customer_of_that_connection(shop):
    conn = _connection(shop.ws)
    only_there = customer_create(workspace_id=shop.ws, actor=ACTOR, data=CustomerInput(
        first_name="Only", email="only.there@example.com"))
    other = make_order(shop.ws, customer=only_there, email="only.there@example.com")
    also_manual = shop.orders[0]  # Meera bought through the shop and by hand
    with workspace_scope(shop.ws):
        Order.objects.filter(id__in=[other.id, also_manual.id]).update(connection_id=conn.id)
    services.request_from_platform(workspace_id=shop.ws, connection_id=conn.id,
                                   topic="shop/redact", event_id="shop-1")
    with workspace_scope(shop.ws):
        assert Order.objects.get(id=other.id).__dict__["email"] is None
        assert Order.objects.get(id=also_manual.id).__dict__["email"] is None
        assert Customer.objects.get(id=only_there.id).__dict__["email"] is None
        # her manual order and her customer record are not that shop's to erase
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is not None
        assert Order.objects.get(id=shop.orders[1].id).__dict__["email"] is not None


def test_a_large_b2c_invoice_is_held_but_a_small_one_is_not(shop):
    # ₹53,940 including 5% GST: ₹51,371 taxable, above the ₹50,000 of CGST Rules r.46(f)
    big = make_order(shop.ws, customer=shop.customer, quantity=60)
    request = submitted_and_verified(shop.slug, "erasure")
    _approve(shop, request)
    with workspace_scope(shop.ws):
        held = set(LegalHold.objects.values_list("record_id", flat=True))
    assert big.id in held and shop.orders[0].id not in held


def test_a_processor_that_received_the_data_hears_of_the_erasure(shop):
    """``share_payload`` leaves an audit event naming the processor; the erasure plans a
    propagation to it, and the request stays open until that processor confirms."""
    from storesync.privacy.governance_models import Processor
    from storesync.privacy.processors import share_payload

    with workspace_scope(shop.ws):
        courier = Processor.objects.filter(kind="courier", active=True).first()
    assert courier is not None  # the built-in courier profile
    share_payload(processor=courier, record=shop.orders[0], actor=ACTOR)
    request = submitted_and_verified(shop.slug, "erasure")
    _approve(shop, request)
    with workspace_scope(shop.ws):
        rows = Propagation.objects.filter(request_id=request.id)
        assert ("processor", str(courier.id)) in {(r.recipient_type, r.recipient_id)
                                                  for r in rows}
    assert _reload(shop.ws, DataSubjectRequest, request.id).status != RequestStatus.COMPLETED
