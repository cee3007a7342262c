"""Restriction, objection and do-not-sell: flags other code asks before processing a customer.

``subject_restrictions`` is the selector marketing, analytics and channel sync call; a
restricted customer is excluded from all three (only storage continues, GDPR Art. 18), an
objection excludes marketing and analytics (Art. 21), do-not-sell excludes sale or sharing
with third parties for advertising (CCPA §1798.120).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from storesync.core.tenancy import workspace_scope
from storesync.privacy.requests_models import SubjectRestriction


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


def _of(row: SubjectRestriction) -> Restrictions:
    return Restrictions(
        marketing=row.restricted or row.objected or row.do_not_sell,
        analytics=row.restricted or row.objected,
        sync_personal_fields=row.restricted,
        sale_or_sharing=row.restricted or row.do_not_sell,
    )


def subject_restrictions(*, workspace_id: uuid.UUID,
                         customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Restrictions]:
    """Restrictions per customer; customers without any are absent from the result."""
    wanted = list(customer_ids)
    with workspace_scope(workspace_id):
        rows = SubjectRestriction.objects.filter(customer_id__in=wanted)
        return {r.customer_id: _of(r) for r in rows if _of(r).any}


def restricted_customer_ids(*, workspace_id: uuid.UUID, use: str) -> set[uuid.UUID]:
    """Every customer excluded from ``use`` (marketing, analytics, sync_personal_fields,
    sale_or_sharing): for set-based exclusion in campaigns and reports."""
    with workspace_scope(workspace_id):
        rows = SubjectRestriction.objects.all()
        return {r.customer_id for r in rows if getattr(_of(r), use)}
