"""Processors hear of erasures, corrections and restrictions by an email to their privacy
contact (GDPR Art. 19, 28(3)(e)); the row then waits for staff to record the processor's
answer, and the request completes once every recipient confirmed. No contact: the row waits,
saying so. A lift tells the requester first (Art. 18(3))."""

from __future__ import annotations

import socket

import pytest
from django.core import mail

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.orders.models import Order
from storesync.privacy import lifts, processors, propagation, rights_tasks, services
from storesync.privacy.governance_models import Processor
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    Propagation,
    RequestStatus,
    SubjectRestriction,
)
from storesync.security.audit import Actor, AuditEvent
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import EMAIL, submitted_and_verified

COURIER_DPO = "privacy@courier.example"
STAFF = Actor("user", "staff-1")


def _courier(ws) -> Processor:
    with workspace_scope(ws):
        return Processor.objects.get(kind="courier", builtin=True)


@pytest.fixture
def courier(shop) -> Processor:
    """The built-in courier, with a privacy contact, shipped the shop's first order."""
    row = processors.processor_update(workspace_id=shop.ws, processor_id=_courier(shop.ws).id,
                                      changes={"privacy_email": COURIER_DPO}, actor=ACTOR)
    processors.share_payload(processor=row, record=shop.orders[0], actor=ACTOR)
    return row


def _order_name(ws, order) -> str:
    with workspace_scope(ws):
        return Order.objects.get(id=order.id).display_name


def _row(ws, request, **filters) -> Propagation:
    with workspace_scope(ws):
        return Propagation.objects.get(request_id=request.id, recipient_type="processor",
                                       **filters)


def _request(ws, request) -> DataSubjectRequest:
    with workspace_scope(ws):
        return DataSubjectRequest.objects.get(id=request.id)


def _mails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def _erased(shop) -> DataSubjectRequest:
    request = submitted_and_verified(shop.slug, "erasure")
    services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    return request


def _closed_port() -> int:
    """A local port nothing listens on: an SMTP server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailServer:
    """Switches the project's mail to a real SMTP connection to a closed port (an outage)
    and back to the test outbox."""

    def __init__(self, settings) -> None:
        self.settings = settings
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
        settings.EMAIL_TIMEOUT = 2
        self.up_backend = settings.EMAIL_BACKEND

    def down(self) -> None:
        self.settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

    def up(self) -> None:
        self.settings.EMAIL_BACKEND = self.up_backend


@pytest.fixture
def mail_server(settings) -> MailServer:
    return MailServer(settings)


def test_an_erasure_emails_the_processor_the_least_that_names_the_person(shop, courier):
    request = _erased(shop)
    [notice] = _mails_to(COURIER_DPO)
    order = _order_name(shop.ws, shop.orders[0])
    assert str(request.id) in notice.subject and "erasure" in notice.subject
    body = notice.body
    assert f"Request reference: {request.id}" in body and "Action: erasure" in body
    assert f"orders {order}" in body  # the order it shipped names the person
    for category in ("user.name", "user.contact.phone", "user.contact.address.street",
                     "order.reference"):
        assert category in body
    assert "Erase the personal data about this person" in body
    assert "quoting the request reference" in body
    # Data minimisation: no name, contact or address, and nothing about the other order.
    for personal in ("Meera", "Iyer", "meera.iyer", "98765", "MG Road", "411001",
                     _order_name(shop.ws, shop.orders[1])):
        assert personal not in body
    row = _row(shop.ws, request)
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.notified_at is not None and row.subject_reference is None
    assert _request(shop.ws, request).status == RequestStatus.IN_PROGRESS
    with workspace_scope(shop.ws):
        told = AuditEvent.objects.get(action="privacy.processor_notified",
                                      subject_id=str(request.id))
    assert told.detail["to"] == COURIER_DPO and told.detail["orders"] == 1
    # A sent notice is not sent again by the dispatcher: it waits for the answer.
    propagation.dispatch(workspace_id=shop.ws)
    assert len(_mails_to(COURIER_DPO)) == 1 and _row(shop.ws, request).state == "sent"


def test_staff_confirmation_completes_the_request_and_is_audited(shop, courier):
    request = _erased(shop)
    row = _row(shop.ws, request)
    note = "Courier confirmed deletion by email 2026-11-20"
    done = propagation.propagation_answer_record(
        workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
        outcome="confirmed", note=note, actor=STAFF)
    assert (done.state, done.note) == ("succeeded", note) and done.confirmed_at
    stored = _request(shop.ws, request)
    assert stored.status == RequestStatus.COMPLETED and stored.completed_at
    with workspace_scope(shop.ws):
        result = AuditEvent.objects.get(action="privacy.propagation_result",
                                        subject_id=str(request.id))
    assert (result.actor_type, result.actor_id) == ("user", "staff-1")
    assert result.detail["ok"] is True and result.detail["note"] == note
    with pytest.raises(Conflict, match="already confirmed"):
        propagation.propagation_answer_record(
            workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
            outcome="refused", note="too late", actor=STAFF)


def test_a_refusal_fails_the_row_and_keeps_the_request_open(shop, courier):
    request = _erased(shop)
    row = _row(shop.ws, request)
    refused = propagation.propagation_answer_record(
        workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
        outcome="refused", note="Courier must keep delivery records 8 years (tax law)",
        actor=STAFF)
    assert refused.state == "failed" and "8 years" in refused.note
    assert "refused" in refused.last_error
    assert _request(shop.ws, request).status == RequestStatus.IN_PROGRESS
    # "Send again" tells it anew; a later confirmation still closes the request.
    propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
    assert len(_mails_to(COURIER_DPO)) == 2 and _row(shop.ws, request).state == "sent"
    propagation.propagation_answer_record(
        workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
        outcome="confirmed", note="Courier erased all but the tax records", actor=STAFF)
    assert _request(shop.ws, request).status == RequestStatus.COMPLETED


def test_answers_name_the_field_they_get_wrong(shop, courier, other_workspace):
    request = _erased(shop)
    row = _row(shop.ws, request)
    with pytest.raises(ValidationError) as bad:
        propagation.propagation_answer_record(
            workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
            outcome="maybe", note="x", actor=STAFF)
    assert bad.value.field == "outcome"
    with pytest.raises(ValidationError) as bad:
        propagation.propagation_answer_record(
            workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
            outcome="confirmed", note="   ", actor=STAFF)
    assert bad.value.field == "note"
    with pytest.raises(NotFound):  # another workspace cannot reach it
        propagation.propagation_answer_record(
            workspace_id=other_workspace.workspace.id, request_id=request.id,
            propagation_id=row.id, outcome="confirmed", note="x", actor=STAFF)
    assert _row(shop.ws, request).state == "sent"


def test_without_a_privacy_contact_the_row_waits_and_says_so(shop):
    courier = _courier(shop.ws)
    processors.share_payload(processor=courier, record=shop.orders[0], actor=ACTOR)
    outbox_before = len(mail.outbox)
    request = _erased(shop)
    row = _row(shop.ws, request)
    assert row.state == "waiting" and "no privacy contact on file" in row.last_error
    assert courier.name in row.last_error
    assert _request(shop.ws, request).status == RequestStatus.IN_PROGRESS
    # Not retried: the dispatcher leaves it for a person.
    propagation.dispatch(workspace_id=shop.ws)
    assert _row(shop.ws, request).attempts == row.attempts
    assert all(COURIER_DPO not in m.to for m in mail.outbox[outbox_before:])
    # Adding the contact sends the notice that waited for it.
    processors.processor_update(workspace_id=shop.ws, processor_id=courier.id,
                                changes={"privacy_email": COURIER_DPO}, actor=ACTOR)
    assert len(_mails_to(COURIER_DPO)) == 1
    assert _row(shop.ws, request).state == "sent"


def test_the_privacy_contact_is_validated(shop):
    with pytest.raises(ValidationError) as bad:
        processors.processor_update(workspace_id=shop.ws, processor_id=_courier(shop.ws).id,
                                    changes={"privacy_email": "dpo at courier"}, actor=ACTOR)
    assert bad.value.field == "privacy_email"
    row = processors.processor_update(workspace_id=shop.ws, processor_id=_courier(shop.ws).id,
                                      changes={"privacy_email": " DPO@Courier.Example "},
                                      actor=ACTOR)
    assert row.privacy_email == "dpo@courier.example"


def test_a_mail_outage_keeps_the_row_pending_and_retried(shop, courier, mail_server):
    request = submitted_and_verified(shop.slug, "erasure")
    mail_server.down()
    services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    row = _row(shop.ws, request)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    mail_server.up()
    propagation.propagation_retry(workspace_id=shop.ws, propagation_id=row.id)
    assert _row(shop.ws, request).state == "sent" and len(_mails_to(COURIER_DPO)) == 1


def test_a_customer_record_is_named_by_the_contact_it_carried_even_after_erasure(shop):
    """A mailing service got the customer record (name and email), no order: the email it
    received is how it knows the person, kept on the row through the erasure and no longer."""
    mailer = processors.processor_create(workspace_id=shop.ws, actor=ACTOR, data={
        "name": "Mailer", "kind": "email", "categories": ["user.name", "user.contact.email"],
        "country": "IN", "safeguard": "domestic", "privacy_email": "dpo@mailer.example"})
    processors.share_payload(processor=mailer, record=shop.customer, actor=ACTOR)
    request = _erased(shop)
    [notice] = _mails_to("dpo@mailer.example")
    assert f"the contact details you received from us: {EMAIL}" in notice.body
    assert "customer record, shared" in notice.body and "orders #" not in notice.body
    assert "Meera" not in notice.body and "98765" not in notice.body
    with workspace_scope(shop.ws):
        assert Customer.objects.get(id=shop.customer.id).email is None  # erased here
    row = _row(shop.ws, request)
    propagation.propagation_answer_record(
        workspace_id=shop.ws, request_id=request.id, propagation_id=row.id,
        outcome="confirmed", note="Mailer confirmed deletion", actor=STAFF)
    assert _row(shop.ws, request).subject_reference is None


def test_a_correction_sends_only_the_corrected_values_the_processor_received(shop, courier):
    request = submitted_and_verified(shop.slug, "correction",
                                     details={"phone": "+91 91234 56789",
                                              "email": "meera.new@example.com"})
    services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    [notice] = _mails_to(COURIER_DPO)
    assert "Action: correction" in notice.body and "phone: +91 91234 56789" in notice.body
    assert "meera.new" not in notice.body  # a courier never received the email
    assert _row(shop.ws, request).state == "sent"


def test_a_correction_of_data_the_processor_never_had_tells_it_nothing(shop, courier):
    request = submitted_and_verified(shop.slug, "correction",
                                     details={"email": "meera.new@example.com"})
    services.dsr_approve(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    assert _mails_to(COURIER_DPO) == []
    row = _row(shop.ws, request)
    assert row.state == "succeeded" and "nothing to tell" in row.note
    assert _request(shop.ws, request).status == RequestStatus.COMPLETED


def test_a_restriction_and_its_lift_reach_the_processor(shop, courier):
    request = submitted_and_verified(shop.slug, "restriction")  # runs by itself
    [told] = _mails_to(COURIER_DPO)
    assert "Action: restriction of processing" in told.body
    assert "Restriction of processing (GDPR Art. 18)" in told.body
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    lifted = _mails_to(COURIER_DPO)[-1]
    assert "Action: restriction lifted" in lifted.body
    assert "restriction of processing this request set is lifted" in lifted.body
    assert _row(shop.ws, request, action="restriction_lift").state == "sent"


def test_the_requester_is_told_before_the_restriction_is_lifted(shop):
    request = submitted_and_verified(shop.slug, "restriction")
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    notice = [m for m in _mails_to(EMAIL) if "about to lift" in m.body]
    assert len(notice) == 1 and str(request.id) in notice[0].body
    assert "GDPR Art. 18(3)" in notice[0].body
    assert notice[0].subject.startswith("Your privacy request: restriction")
    outcome = _request(shop.ws, request).outcome
    assert outcome["lift_notice"]["sent_at"] <= outcome["lifted_at"]
    with workspace_scope(shop.ws):
        assert not SubjectRestriction.objects.get(customer_id=shop.customer.id).restricted
        told = AuditEvent.objects.get(action="privacy.subject_notified",
                                      subject_id=str(request.id))
        changes = [e.detail for e in AuditEvent.objects.filter(
            action="privacy.restriction_changed", subject_id=str(request.id)).order_by("seq")]
    assert told.detail == {"notice": "restriction_lift", "sent": True}
    assert [d.get("lift_requested") or d.get("lifted") or d.get("set") for d in changes] == [
        "restricted", "restricted", "restricted"]
    assert "lift_requested" in changes[1] and "lifted" in changes[2]


def test_without_the_notice_nothing_is_lifted(shop, mail_server):
    request = submitted_and_verified(shop.slug, "restriction")
    mail_server.down()
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    outcome = _request(shop.ws, request).outcome
    assert outcome["lift_requested_at"] and "lift_notice" not in outcome
    assert "lifted_at" not in outcome
    with workspace_scope(shop.ws):
        assert SubjectRestriction.objects.get(customer_id=shop.customer.id).restricted
    with pytest.raises(Conflict, match="told first"):
        services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    # The mail server is back: the periodic job tells the person, then lifts.
    mail_server.up()
    rights_tasks.resume_requests.call_local()
    outcome = _request(shop.ws, request).outcome
    assert outcome["lift_notice"]["sent_at"] and outcome["lifted_at"]
    with workspace_scope(shop.ws):
        assert not SubjectRestriction.objects.get(customer_id=shop.customer.id).restricted
    assert lifts.restriction_lift_carry_out(workspace_id=shop.ws,
                                            request_id=request.id) is None


def test_a_request_without_an_address_is_lifted_and_says_no_notice_went(shop):
    request = submitted_and_verified(shop.slug, "restriction")
    with workspace_scope(shop.ws):  # as a later erasure leaves an earlier request
        DataSubjectRequest.objects.filter(id=request.id).update(email=None, email_bidx=None)
    services.restriction_lift(workspace_id=shop.ws, request_id=request.id, actor=ACTOR)
    outcome = _request(shop.ws, request).outcome
    assert outcome["lift_notice"] == {"not_sent": lifts.NO_ADDRESS} and outcome["lifted_at"]
