"""Signals the customers app sends; other apps listen without customers importing them.

``marketing_consent_given`` is sent whenever a customer's email or SMS marketing consent is
stored — given with a new customer (``customer_create``, ``customers_bulk_create``: API,
imports, channels) or changed later (``customer_set_marketing_consent``) — inside the same
transaction, with keyword arguments ``workspace_id``, ``actor`` and ``given`` (a list of
``MarketingConsentGiven``). The privacy app records each in its consent ledger
(``storesync.privacy.wiring``), so no path can set the flag without the ledger knowing; a
receiver that raises ``ValidationError`` (a child without guardian consent) undoes the write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

from storesync.security import audit

marketing_consent_given = Signal()


@dataclass(frozen=True)
class ChannelConsent:
    """One channel's consent as stored (the shape of Shopify's ``emailMarketingConsent``)."""

    channel: str  # email | sms
    state: str  # subscribed | unsubscribed | not_subscribed
    source: str
    opt_in_level: str
    consented_at: datetime | None


@dataclass(frozen=True)
class MarketingConsentGiven:
    customer_id: uuid.UUID
    channels: tuple[ChannelConsent, ...]
    at_creation: bool  # given with the customer's details, when it was created


def send_marketing_consent_given(*, workspace_id: uuid.UUID, actor: audit.Actor,
                                 given: Sequence[MarketingConsentGiven]) -> None:
    """Tell listeners about stored marketing consents (call inside the transaction)."""
    if given:
        marketing_consent_given.send(sender=None, workspace_id=workspace_id, actor=actor,
                                     given=list(given))
