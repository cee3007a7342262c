"""Processors told of erasures, corrections and restrictions (GDPR Art. 19 and 28(3)(e)).

A processor (a courier, a payment processor) has no API here: it is told by an email to its
privacy contact (``Processor.privacy_email``), sent from the worker when ``propagation.dispatch``
signals its row. The notice says what to do (erase, correct, restrict, or that a restriction
is lifted), the request reference, the data categories the processor received and what to
confirm, and names the person by the least that lets the processor find them: the references
of the orders it received (orders keep their numbers after an erasure) and, only for a
customer record it received without an order reference, the email or phone it received with
it. That contact is captured on the row when the row is planned, before the erasure or
correction changes it, and cleared once the processor answered.

The row is then ``sent``, and stays so until staff record the processor's answer
(``propagation.propagation_answer_record``); the dispatcher does not send it again. Without a
privacy contact on file the row is ``waiting``, with a note saying so, and goes out as soon as
one is added (``processors.processor_update``).

What a processor received is read from the audit log: every ``share_payload`` call is a
``processor.shared`` event naming the processor, the record and the fields.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.utils import timezone

from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.orders.models import Order
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import field_categories
from storesync.privacy.propagation import propagation_record_result
from storesync.privacy.requests_models import DataSubjectRequest, Propagation
from storesync.privacy.restrictions import restriction_wanted
from storesync.privacy.subject_data import Subject, subject_find
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access
from storesync.security.models import AuditEvent

ACTOR = audit.Actor.system("privacy")
EMAIL, PHONE = "user.contact.email", "user.contact.phone"
NO_CONTACT = ("no privacy contact on file for {name}: add its privacy email on the processors "
              "page and the notice goes out at once, or record its answer if you told it "
              "another way")
NOTHING_TO_CORRECT = "nothing to tell: the correction changes no data this processor received"
TITLES = {"erasure": "erasure", "correction": "correction",
          "restriction": "restriction of processing", "restriction_lift": "restriction lifted"}
CONFIRM_EXAMPLES = {"erasure": "erased on 20 November 2026",
                    "correction": "corrected on 20 November 2026",
                    "restriction": "restricted on 20 November 2026",
                    "restriction_lift": "noted on 20 November 2026"}
REPLY_DAYS_AFTER_DUE = 14  # when the request's own deadline has passed (a lift, months later)


@dataclass
class Shared:
    """What one processor received about a subject's customers, from the audit log."""

    processor_id: str
    # (model label, primary key, data categories, when), oldest first
    records: list[tuple[str, str, list[str], datetime]] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)  # orders whose reference it received
    # customer id -> the categories it received from records that carry no order reference
    unreferenced: dict[str, set[str]] = field(default_factory=dict)


def _categories_of(label: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    if label not in cache:
        try:
            model: type[models.Model] = apps.get_model(label)
        except (LookupError, ValueError):
            cache[label] = {}
        else:
            cache[label] = field_categories(model)
    return cache[label]


def processor_shares(*, workspace_id: uuid.UUID, customer_ids: Iterable[Any],
                     processor_id: str | None = None) -> dict[str, Shared]:
    """processor id -> what it received about these customers (every ``share_payload``)."""
    ids = [str(c) for c in customer_ids]
    if not ids:
        return {}
    events = AuditEvent.objects.filter(
        chain=audit.chain_of(workspace_id), action=audit.Action.PROCESSOR_SHARED,
        subject_type="customer", subject_id__in=ids)
    if processor_id is not None:
        events = events.filter(detail__processor_id=processor_id)
    out: dict[str, Shared] = {}
    cache: dict[str, dict[str, str]] = {}
    for customer_id, names, detail, when in events.order_by("seq").values_list(
            "subject_id", "fields", "detail", "occurred_at"):
        if not detail or not detail.get("processor_id"):
            continue
        label, _, pk = str(detail.get("record", "")).partition(":")
        categories = {c for n in names if (c := _categories_of(label, cache).get(n))}
        shared = out.setdefault(str(detail["processor_id"]), Shared(str(detail["processor_id"])))
        shared.records.append((label, pk, sorted(categories), when))
        shared.categories |= categories
        if label == "orders.order" and "order.reference" in categories:
            shared.order_ids.add(pk)
        else:
            shared.unreferenced.setdefault(customer_id, set()).update(categories)
    return out


def _request_subject(request: DataSubjectRequest) -> Subject:
    """The request's customers, found without reading any personal data (an erasure has
    removed the email by the time notices go out)."""
    return subject_find(workspace_id=request.workspace_id,
                        customer_ids=[uuid.UUID(c) for c in request.customer_ids],
                        connection_id=request.connection_id
                        if request.scope == "connection" else None)


# --- when the rows are planned: how each processor knows the person ------------------------

def references_capture(request: DataSubjectRequest, subject: Subject, action: str) -> None:
    """``propagation.plan`` hook: for each processor row of ``action`` whose processor
    received a customer record without an order reference, keep the email (else the phone)
    it received, read now, before an erasure or a correction changes it."""
    with workspace_scope(request.workspace_id):
        rows = list(Propagation.objects.filter(request=request, action=action,
                                               recipient_type="processor"))
        if not rows:
            return
        shares = processor_shares(workspace_id=request.workspace_id,
                                  customer_ids=subject.customer_ids)
        wanted = {row.id: shares[row.recipient_id].unreferenced for row in rows
                  if row.recipient_id in shares and shares[row.recipient_id].unreferenced}
        if not wanted:
            return
        customer_ids = {c for needs in wanted.values() for c in needs}
        with personal_data_access(actor=ACTOR, workspace_id=request.workspace_id,
                                  purpose=Purpose.DATA_SUBJECT_REQUEST):
            customers = {str(c.id): c for c in Customer.objects.filter(id__in=customer_ids)}
            for row in rows:
                values = []
                for customer_id, categories in sorted(wanted.get(row.id, {}).items()):
                    customer = customers.get(customer_id)
                    if customer is None:
                        continue
                    # Only what this processor received, and one identifier per person.
                    value = (customer.email if EMAIL in categories else None) or (
                        customer.phone if PHONE in categories else None)
                    if value:
                        values.append(value)
                if values:
                    row.subject_reference = ", ".join(values)
                    row.save(update_fields=["subject_reference"])


# --- the notice -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    subject: str
    body: str
    names_contact: bool  # the body carries the contact captured for the person


FLAG_DUTIES = {
    "restricted": "Restriction of processing (GDPR Art. 18): keep (store) the data but do not "
                  "otherwise use it, unless the person consents, for legal claims, or to "
                  "protect another person's rights, until we tell you it is lifted.",
    "objected": "Objection (GDPR Art. 21): do not use the data for marketing, analytics or "
                "profiling.",
    "do_not_sell": "Opt-out of sale and sharing (CCPA §1798.120): do not sell the data or "
                   "share it for cross-context behavioural advertising.",
}
FLAG_NAMES = {"restricted": "restriction of processing", "objected": "objection",
              "do_not_sell": "opt-out of sale and sharing"}


def _corrections(request: DataSubjectRequest, shared: Shared | None) -> list[str]:
    """Lines 'field: new value' for the corrected fields of a category the processor
    received (and only those: a courier is not sent a corrected email address)."""
    with personal_data_access(actor=ACTOR, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        changes = json.loads(request.details or "{}")
    changes.pop("message", None)
    customer_categories = field_categories(Customer)
    received = shared.categories if shared else set()
    return [f"    {name.replace('_', ' ')}: {value}" for name, value in sorted(changes.items())
            if customer_categories.get(name) in received]


def _duties(row: Propagation, shared: Shared | None) -> list[str] | None:
    """What the processor must do, in lines; None when there is nothing to tell it."""
    request = row.request
    if row.action == "erasure":
        return ["Erase the personal data about this person that you received from us, "
                "including copies in your systems.",
                "Where a law obliges you to keep some of it, keep only that, use it for "
                "nothing else, and tell us which data, why, and until when."]
    if row.action == "correction":
        lines = _corrections(request, shared)
        if not lines:
            return None
        return ["Replace the data below in your records with the corrected values:", *lines]
    wanted = restriction_wanted(request=request, action=row.action)
    standing = [FLAG_DUTIES[f] for f in sorted(wanted.flags)]
    if row.action == "restriction":
        return standing or ["The restriction has since been lifted: there is nothing to "
                            "apply. Please confirm that you noted this."]
    own = FLAG_NAMES.get(wanted.request_flag, "restriction")
    lines = [f"The {own} this request set is lifted: you may again process the data as our "
             "agreement with you provides."]
    if standing:
        lines += ["Still in force for this person (set by other requests):", *standing]
    return lines


def _received(shared: Shared | None, orders: dict[str, str]) -> list[str]:
    if shared is None or not shared.records:
        return ["  (our records list nothing shared with you for this person)"]
    lines = []
    for label, pk, categories, when in shared.records:
        what = {"orders.order": f"order {orders[pk]}" if pk in orders else "an order",
                "customers.customer": "customer record",
                "customers.address": "address record"}.get(label, label)
        lines.append(f"  - {what}, shared {when:%Y-%m-%d}: {', '.join(categories)}")
    return lines


def notice_compose(*, row: Propagation, processor: Processor, shared: Shared | None,
                   workspace: Workspace) -> Notice | None:
    """The email to ``processor`` for ``row``; None when there is nothing to tell it (a
    correction of data it never received). Holds no personal data beyond the order
    references it received, the contact captured for a record without one, and, for a
    correction, the corrected values of what it received."""
    duties = _duties(row, shared)
    if duties is None:
        return None
    request = row.request
    with workspace_scope(workspace.id):
        orders = {str(pk): (name or f"#{number}") for pk, name, number in Order.objects.filter(
            id__in=shared.order_ids if shared else ()).values_list("id", "name", "number")}
    person = [f"  orders {', '.join(sorted(orders.values()))}"] if orders else []
    with personal_data_access(actor=ACTOR, workspace_id=workspace.id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        contact = row.subject_reference
    if contact:
        person.append(f"  the contact details you received from us: {contact}")
    now = timezone.now()
    reply_by = request.due_at if request.due_at > now + timedelta(days=2) else (
        now + timedelta(days=REPLY_DAYS_AFTER_DUE))
    title = TITLES[row.action]
    contract = f" (agreement {processor.contract_reference})" if \
        processor.contract_reference else ""
    body = "\n".join([
        f"Dear {processor.name} privacy team,",
        "",
        f"{workspace.name} shared personal data with you as our processor{contract}. A person "
        f"has exercised a right over that data, and we ask you to act on it (GDPR Art. 19 "
        f"and 28(3)(e)).",
        "",
        f"Request reference: {request.id}",
        f"Action: {title}",
        "",
        "The person, as you know them:",
        *(person or ["  see the records below"]),
        "",
        "What you received from us about this person:",
        *_received(shared, orders),
        f"Data categories: {', '.join(sorted(shared.categories)) if shared else 'none'}",
        "",
        "What to do:",
        *(line if line.startswith("  ") else f"  {line}" for line in duties),
        "",
        f"Please reply to this email by {reply_by:%d %B %Y}, quoting the request reference, "
        f"to confirm what you did (for example \"{CONFIRM_EXAMPLES[row.action]}\"), or to "
        "tell us why you cannot comply.",
        "",
        workspace.name,
    ])
    return Notice(f"Data-subject request {request.id}: {title} - please act and confirm "
                  f"({workspace.name})", body, bool(contact))


# --- sending, from the worker ---------------------------------------------------------------

def _hold(row: Propagation, state: str, why: str) -> None:
    row.state, row.last_error, row.attempts = state, why[:500], row.attempts + 1
    row.save(update_fields=["state", "last_error", "attempts"])


def processor_notify(*, workspace_id: uuid.UUID, propagation_id: uuid.UUID) -> str:
    """Tell the processor of one due row; returns the row's state afterwards ('' when the row
    was not due, or another worker has it). A mail error propagates: the row stays pending
    and the dispatcher retries it with backoff."""
    with workspace_scope(workspace_id), transaction.atomic():
        # Locked while the mail goes out, so that two workers never send the same notice.
        row = (Propagation.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("request")
               .filter(id=propagation_id, state=Propagation.State.PENDING).first())
        if row is None:
            return ""
        processor = Processor.objects.filter(id=uuid.UUID(row.recipient_id)).first()
        if processor is None:
            _hold(row, Propagation.State.FAILED, "this processor is no longer registered")
            return row.state
        if not processor.privacy_email:
            _hold(row, Propagation.State.WAITING, NO_CONTACT.format(name=processor.name))
            return row.state
        shared = processor_shares(
            workspace_id=workspace_id, processor_id=str(processor.id),
            customer_ids=_request_subject(row.request).customer_ids).get(str(processor.id))
        workspace = Workspace.objects.get(id=workspace_id)
        notice = notice_compose(row=row, processor=processor, shared=shared,
                                workspace=workspace)
        if notice is None:
            propagation_record_result(workspace_id=workspace_id, propagation_id=row.id,
                                      ok=True, note=NOTHING_TO_CORRECT, actor=ACTOR)
            return str(Propagation.State.SUCCEEDED)
        EmailMessage(subject=notice.subject, body=notice.body,
                     to=[processor.privacy_email]).send()
        row.state, row.notified_at, row.last_error = (Propagation.State.SENT, timezone.now(),
                                                      "")
        row.attempts += 1
        row.save(update_fields=["state", "notified_at", "last_error", "attempts"])
        audit.record(action=audit.Action.PRIVACY_PROCESSOR_NOTIFIED, actor=ACTOR,
                     workspace_id=workspace_id, subject_type="privacy_request",
                     subject_id=row.request_id,
                     detail={"processor_id": str(processor.id), "processor": processor.name,
                             "to": processor.privacy_email, "action": row.action,
                             "categories": sorted(shared.categories) if shared else [],
                             "orders": len(shared.order_ids) if shared else 0,
                             "contact_included": notice.names_contact})
        return row.state


def on_propagation_signal(sender: Any, **kwargs: Any) -> bool | None:
    """Receiver of the four propagation signals for processor rows (connections are the
    channels app's)."""
    if kwargs.get("recipient_type") != "processor":
        return None
    processor_notify(workspace_id=kwargs["workspace_id"],
                     propagation_id=kwargs["propagation_id"])
    return True
