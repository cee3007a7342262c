"""Restriction, objection and do-not-sell: flags other code asks before processing a customer.

``subject_restrictions`` is the selector marketing, analytics and channel sync call; a
restricted customer is excluded from all three (only storage continues, GDPR Art. 18), an
objection excludes marketing and analytics (Art. 21), do-not-sell excludes sale or sharing
with third parties for advertising (CCPA §1798.120).

The consent ledger asks ``restriction_reason`` for one subject and ``restricted_customers``
for a whole audience (``storesync.privacy.consent``): a grant in the ledger does not outweigh
a restriction, and lifting the restriction restores what the ledger says.

The recipients of a restricted subject's data hear of it (GDPR Art. 19) through
``restriction_wanted``: what stands for the request's subject when the recipient is told.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.privacy.consent_models import ConsentPurpose
from storesync.privacy.requests_models import DataSubjectRequest, SubjectRestriction

# Which flags exclude a customer from each use. One table, read by the per-customer answer
# (``_of``), the set-based one (``restricted_customers``) and the reasons.
FLAGS_EXCLUDING: dict[str, tuple[str, ...]] = {
    "marketing": ("restricted", "objected", "do_not_sell"),
    "analytics": ("restricted", "objected"),
    "sync_personal_fields": ("restricted",),
    "sale_or_sharing": ("restricted", "do_not_sell"),
}
# Consent purposes and the use that covers them. Personalisation is profiling: an objection
# covers it as it covers analytics (Art. 21(1)), a restriction covers everything but storage.
USE_OF_PURPOSE: dict[str, str] = {
    ConsentPurpose.MARKETING: "marketing",
    ConsentPurpose.ANALYTICS: "analytics",
    ConsentPurpose.PERSONALISATION: "analytics",
    ConsentPurpose.SALE_SHARE: "sale_or_sharing",
}
_WORDS = {"restricted": "restricted", "objected": "objected to",
          "do_not_sell": "opted out of sale/sharing"}


@dataclass(frozen=True)
class Restrictions:
    marketing: bool = False  # True: must not be used for marketing
    analytics: bool = False
    sync_personal_fields: bool = False  # True: personal fields must not be pushed to channels
    sale_or_sharing: bool = False

    @property
    def any(self) -> bool:
        return self.marketing or self.analytics or self.sync_personal_fields or \
            self.sale_or_sharing


FLAGS = ("restricted", "objected", "do_not_sell")


def uses_of(flags: Iterable[str]) -> Restrictions:
    """The uses these flags exclude together."""
    standing = set(flags)
    return Restrictions(**{use: bool(standing.intersection(excluding))
                           for use, excluding in FLAGS_EXCLUDING.items()})


def _of(row: SubjectRestriction) -> Restrictions:
    return uses_of(flag for flag in FLAGS if getattr(row, flag))


def _use_q(use: str) -> Q:
    if use not in FLAGS_EXCLUDING:
        raise ValidationError(f"one of {', '.join(FLAGS_EXCLUDING)}", field="use")
    q = Q()
    for flag in FLAGS_EXCLUDING[use]:
        q |= Q(**{flag: True})
    return q


def subject_restrictions(*, workspace_id: uuid.UUID,
                         customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Restrictions]:
    """Restrictions per customer; customers without any are absent from the result."""
    wanted = list(customer_ids)
    with workspace_scope(workspace_id):
        rows = SubjectRestriction.objects.filter(
            Q(customer_id__in=wanted) & (Q(restricted=True) | Q(objected=True)
                                         | Q(do_not_sell=True)))
        return {r.customer_id: _of(r) for r in rows}


def restricted_customers(*, workspace_id: uuid.UUID, use: str) -> QuerySet[Any]:
    """The ids of every customer excluded from ``use``, as a query (``customer_id`` values):
    for ``exclude(id__in=...)`` in campaigns and reports, evaluated by the database. Call it
    and use the result inside ``workspace_scope(workspace_id)``."""
    with workspace_scope(workspace_id):
        return SubjectRestriction.objects.filter(_use_q(use)).values("customer_id")


def restricted_customer_ids(*, workspace_id: uuid.UUID, use: str) -> set[uuid.UUID]:
    """Every customer excluded from ``use`` (marketing, analytics, sync_personal_fields,
    sale_or_sharing), filtered in the database."""
    with workspace_scope(workspace_id):
        return set(SubjectRestriction.objects.filter(_use_q(use))
                   .values_list("customer_id", flat=True))


def restriction_reason(*, workspace_id: uuid.UUID, customer_id: uuid.UUID | str,
                       purpose: str) -> str | None:
    """Why a restriction stops ``purpose`` for this customer (naming the request that set
    it), or None when none does. ``necessary`` is never restricted: storage and the service
    the customer asked for continue (Art. 18(2))."""
    use = USE_OF_PURPOSE.get(purpose)
    if use is None:
        return None
    try:
        cid = uuid.UUID(str(customer_id))
    except ValueError:
        return None
    with workspace_scope(workspace_id):
        row = SubjectRestriction.objects.filter(customer_id=cid).filter(_use_q(use)).first()
    if row is None:
        return None
    for flag in FLAGS_EXCLUDING[use]:
        if getattr(row, flag):
            by = getattr(row, f"{flag}_by_id")
            request = f"request {by}" if by else "a privacy request"
            return f"{_WORDS[flag]} by {request}: no {purpose} until it is lifted"
    return None  # pragma: no cover - the filter found a flag


@dataclass(frozen=True)
class RestrictionInForce:
    """What stands for one request's subject now: the flags (``FLAGS``) and the uses they
    exclude. No flags: nothing is restricted (a lifted restriction)."""

    flags: frozenset[str]
    uses: Restrictions
    request_flag: str  # the flag the request itself set ("" for another kind of request)


def restriction_wanted(*, request: DataSubjectRequest, action: str) -> RestrictionInForce:
    """What a recipient of ``request``'s subject must be told now, for a ``restriction`` or
    ``restriction_lift`` propagation: every flag standing on the subject's customers (this
    request's or a later one's), plus this request's own flag while it is not lifted (a
    subject known to the channels only by email has no customer row to carry it). Read when
    the recipient is called, so a retry after a lift (or a later restriction) says what is
    true then."""
    flag = str(request.outcome.get("flag") or "")
    with workspace_scope(request.workspace_id):
        rows = SubjectRestriction.objects.filter(customer_id__in=request.customer_ids)
        standing = {f for row in rows for f in FLAGS if getattr(row, f)}
    if action == "restriction" and flag in FLAGS and not request.outcome.get("lifted_at"):
        standing.add(flag)
    return RestrictionInForce(frozenset(standing), uses_of(standing), flag)
