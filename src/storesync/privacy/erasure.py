"""Erasing one subject locally: one transaction of set-based UPDATEs and DELETEs.

Values are encrypted per row, so erasing never decrypts: a field is set to NULL (the
ciphertext is gone) and its blind index with it. What the data map marks
``keep_for_legal_obligation`` (the recipient on an Indian GST invoice) stays on those orders
only, with a ``LegalHold`` row saying why and until when; the retention sweep erases it then.
The whole local erasure commits or rolls back as one: never half-masked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from storesync.core.models import Workspace
from storesync.customers.models import Address, Customer
from storesync.orders.models import AbandonedCheckout, DraftOrder, Order
from storesync.privacy import datamap
from storesync.privacy.requests_models import DataSubjectRequest, LegalHold
from storesync.privacy.subject_data import Subject

ORDER_PERSONAL = ("email", "email_bidx", "ship_name", "ship_line1", "ship_line2", "ship_city",
                  "ship_postcode", "ship_phone")
ORDER_INVOICE_FIELDS = tuple(f for (m, f), (action, _) in datamap.FIELD_OVERRIDES.items()
                             if m == "orders.order" and action == datamap.Erasure.KEEP_LEGAL)
CUSTOMER_PERSONAL = ("first_name", "last_name", "email", "email_bidx", "phone", "phone_bidx",
                     "note")
GST_NAMED_RECIPIENT_MINOR = 50_000_00  # ₹50,000 (CGST Rules r.46(f))


def invoice_names_recipient(country: str) -> Q:
    """Orders whose tax invoice must carry the recipient's name and address: in India, a
    registered buyer (GSTIN) or an unregistered one above ₹50,000. Elsewhere none are held
    (a seller outside India with a similar duty must add its rule here)."""
    if country != "IN":
        return Q(pk__in=[])
    # taxable value = total less tax
    return ~Q(buyer_gstin="") | Q(currency="INR",
                                  total_minor__gt=F("tax_minor") + GST_NAMED_RECIPIENT_MINOR)


@dataclass
class ErasureCounts:
    customers: int = 0
    addresses: int = 0
    orders_erased: int = 0
    orders_held: int = 0
    drafts: int = 0
    checkouts: int = 0
    earlier_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# Other apps' local erasure steps (consents, processors' local copies): called inside the
# same transaction with the subject; return how many records they changed.
ErasureStep = Callable[[Subject, DataSubjectRequest], int]
_steps: dict[str, ErasureStep] = {}
# Steps that must see the subject's records before anything is erased (the channels app
# notes which platform customers and orders to erase there): run first, same transaction.
_first_steps: dict[str, ErasureStep] = {}


def register_erasure_step(name: str, step: ErasureStep, *, first: bool = False) -> None:
    """Let another app erase its own records of a subject in the erasure's transaction;
    ``first``: run before any local change, while emails and addresses are still there."""
    (_first_steps if first else _steps)[name] = step


def _orders(subject: Subject, request: DataSubjectRequest, counts: ErasureCounts) -> None:
    country = Workspace.objects.filter(id=subject.workspace_id).values_list(
        "country", flat=True).first() or ""
    held_q = invoice_names_recipient(country)
    mine = Order.objects.filter(subject.orders)
    held = list(mine.filter(held_q).values_list("id", "placed_at"))
    keep = set(ORDER_INVOICE_FIELDS)
    counts.orders_held = mine.filter(held_q).update(
        **{f: None for f in ORDER_PERSONAL if f not in keep})
    counts.orders_erased = mine.exclude(held_q).update(**dict.fromkeys(ORDER_PERSONAL))
    LegalHold.objects.bulk_create([
        LegalHold(workspace_id=subject.workspace_id, record_type="orders.order",
                  record_id=order_id, reason=datamap.GST_HOLD, fields=sorted(keep),
                  held_until=datamap.gst_invoice_held_until(placed_at), request=request)
        for order_id, placed_at in held], ignore_conflicts=True, batch_size=1000)


def erase_locally(subject: Subject, request: DataSubjectRequest,
                  email_digests: list[bytes]) -> ErasureCounts:
    """Erase everything of ``subject``; the caller holds the transaction and the scope."""
    counts = ErasureCounts()
    for first in _first_steps.values():
        first(subject, request)
    _orders(subject, request, counts)
    counts.drafts = DraftOrder.objects.filter(subject.drafts).update(
        **dict.fromkeys(ORDER_PERSONAL))
    counts.checkouts, _ = AbandonedCheckout.objects.filter(subject.checkouts).delete()
    if subject.customer_ids:
        counts.addresses, _ = Address.objects.filter(
            customer_id__in=subject.customer_ids).delete()
        # Pseudonymised: the row stays (orders and refunds point at it) under its random id.
        counts.customers = Customer.objects.filter(id__in=subject.customer_ids).update(
            tags=[], updated_at=timezone.now(), **dict.fromkeys(CUSTOMER_PERSONAL))
    earlier = DataSubjectRequest.objects.exclude(id=request.id)
    if email_digests:
        counts.earlier_requests = earlier.filter(email_bidx__in=email_digests).update(
            email=None, email_bidx=None, details=None, export=None)
    for step in _steps.values():
        step(subject, request)
    return counts


def legal_hold_summary(workspace_id: uuid.UUID, request_id: uuid.UUID) -> list[dict[str, str]]:
    rows = LegalHold.objects.filter(request_id=request_id).values_list(
        "record_type", "record_id", "held_until")[:1000]
    return [{"record": f"{t}:{i}", "held_until": dt.date.isoformat(u)} for t, i, u in rows]
