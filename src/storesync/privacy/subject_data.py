"""Finding everything held about one data subject (selectors; no decryption needed).

A subject is found by the blind index of their email (customers, orders, drafts, abandoned
checkouts, earlier requests) and by customer id; a platform's shop-wide redaction finds every
customer who ordered through one connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.orders.models import AbandonedCheckout, DraftOrder, Order
from storesync.security.fields import BlindIndexField


def email_digests(model: type[models.Model], workspace_id: uuid.UUID, email: str) -> list[bytes]:
    """The blind-index digests of ``email`` in ``model`` (one per live key)."""
    bidx = model._meta.get_field("email_bidx")
    assert isinstance(bidx, BlindIndexField)
    return bidx.candidates(model, workspace_id, email)


MATERIALISE_LIMIT = 10_000  # ids kept in a list up to this many orders (bound parameters)


@dataclass
class Subject:
    """Where one subject's records are: ids and the filters that find them."""

    workspace_id: uuid.UUID
    customer_ids: list[uuid.UUID] = field(default_factory=list)
    orders: Q = field(default_factory=lambda: Q(pk__in=[]))
    drafts: Q = field(default_factory=lambda: Q(pk__in=[]))
    checkouts: Q = field(default_factory=lambda: Q(pk__in=[]))
    connection_ids: list[uuid.UUID] = field(default_factory=list)


def subject_find(*, workspace_id: uuid.UUID, email: str = "",
                 customer_ids: list[uuid.UUID] | None = None,
                 connection_id: uuid.UUID | None = None) -> Subject:
    """The subject with this email (and/or these customers), or, with ``connection_id`` and no
    email, that connection's orders and the customers who bought only through it."""
    with workspace_scope(workspace_id):
        ids = set(customer_ids or ())
        order_q, draft_q, checkout_q = Q(pk__in=[]), Q(pk__in=[]), Q(pk__in=[])
        if email:
            ids |= set(Customer.objects.filter(
                email_bidx__in=email_digests(Customer, workspace_id, email)
            ).values_list("id", flat=True))
            order_q |= Q(email_bidx__in=email_digests(Order, workspace_id, email))
            draft_q |= Q(email_bidx__in=email_digests(DraftOrder, workspace_id, email))
            checkout_q |= Q(email_bidx__in=email_digests(AbandonedCheckout, workspace_id, email))
        if connection_id is not None and not email:
            # The shop's orders go; its customers go too unless they also bought elsewhere
            # (another channel's or a manual order), whose records are not that shop's.
            order_q |= Q(connection_id=connection_id)
            via = {c for c in Order.objects.filter(connection_id=connection_id)
                   .values_list("customer_id", flat=True).distinct() if c}
            elsewhere = set(Order.objects.filter(customer_id__in=via).exclude(
                connection_id=connection_id).values_list("customer_id", flat=True))
            ids |= via - elsewhere
        if ids:
            order_q |= Q(customer_id__in=ids)
            draft_q |= Q(customer_id__in=ids)
        # One statement per condition, each served by its own index (an OR of them, next to
        # "workspace = X", may send a planner without statistics to the workspace index).
        found = list({row for part in order_q.children for row in Order.objects.filter(
            part if isinstance(part, Q) else Q(part)).values_list("id", "connection_id")
            [:MATERIALISE_LIMIT + 1]})
        connections = sorted({c for _, c in found if c})
        if len(found) <= MATERIALISE_LIMIT:
            # Later statements then go by primary key: a planner facing "workspace = X AND
            # (email_bidx IN ... OR customer_id IN ...)" may pick the workspace index instead.
            order_q = Q(pk__in=[pk for pk, _ in found])
            draft_q = Q(pk__in=list(DraftOrder.objects.filter(draft_q).values_list(
                "pk", flat=True)))
            checkout_q = Q(pk__in=list(AbandonedCheckout.objects.filter(checkout_q)
                                       .values_list("pk", flat=True)))
        else:
            connections = sorted({c for c in Order.objects.filter(order_q).values_list(
                "connection_id", flat=True).distinct() if c})
    return Subject(workspace_id, sorted(ids), order_q, draft_q, checkout_q, connections)
