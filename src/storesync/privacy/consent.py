"""The consent ledger: record decisions, derive the current state, answer ``consent_allows``.

Every decision is a new ``ConsentEntry``; the current state of a purpose is its latest entry,
and a purpose nobody decided on is *not* allowed (opt-in), except ``necessary``, which is the
service itself and cannot be refused.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.db import transaction
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer, MarketingState
from storesync.customers.services import ConsentInput, customer_set_marketing_consent
from storesync.privacy import children
from storesync.privacy.consent_models import (
    ConsentEntry,
    ConsentPurpose,
    ConsentSource,
    ConsentState,
    PrivacySettings,
    SubjectAge,
    SubjectType,
)
from storesync.privacy.subjects import Subject
from storesync.security import audit

UNSUBSCRIBE_SALT = "storesync.privacy.unsubscribe"
UNSUBSCRIBE_MAX_AGE_S = 400 * 24 * 3600  # mail is read late; a year-old newsletter still works
MAX_EVIDENCE_KEYS = 10
MAX_ORIGINS = 20


# --- settings ---------------------------------------------------------------------------------

def _new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def privacy_settings_ensure(*, workspace_id: uuid.UUID) -> PrivacySettings:
    """The workspace's privacy settings, created on first use (age 18 in India, else 16)."""
    with workspace_scope(workspace_id):
        found = PrivacySettings.objects.filter().first()
        if found is not None:
            return found
        country = Workspace.objects.filter(id=workspace_id).values_list("country", flat=True)
        with transaction.atomic():
            row, _ = PrivacySettings.objects.get_or_create(
                workspace_id=workspace_id,
                defaults={"public_key": _new_public_key(),
                          "minimum_age": 18 if (country.first() or "IN") == "IN" else 16})
        return row


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
        raise ValidationError(f"{value!r} is not an origin like https://shop.example.com",
                              field="storefront_origins")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
        raise ValidationError("storefront origins use https (http only for localhost)",
                              field="storefront_origins")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def privacy_settings_update(*, workspace_id: uuid.UUID, changes: Mapping[str, Any],
                            actor: audit.Actor) -> PrivacySettings:
    """Change storefront origins, banner version or the age gate; only named fields change."""
    allowed = {"storefront_origins", "banner_version", "age_gate_enabled", "minimum_age",
               "rotate_public_key"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError("not a setting that can be changed", field=sorted(unknown)[0])
    row = privacy_settings_ensure(workspace_id=workspace_id)
    if "storefront_origins" in changes:
        origins = list(changes["storefront_origins"])
        if len(origins) > MAX_ORIGINS:
            raise ValidationError(f"at most {MAX_ORIGINS} origins", field="storefront_origins")
        row.storefront_origins = sorted({_origin(o) for o in origins if o.strip()})
    if "banner_version" in changes:
        version = str(changes["banner_version"]).strip()
        if not version or len(version) > 40:
            raise ValidationError("1-40 characters", field="banner_version")
        row.banner_version = version
    if "minimum_age" in changes:
        age = changes["minimum_age"]
        if not isinstance(age, int) or not 13 <= age <= 21:
            raise ValidationError("a minimum age between 13 and 21", field="minimum_age")
        row.minimum_age = age
    if "age_gate_enabled" in changes:
        row.age_gate_enabled = bool(changes["age_gate_enabled"])
    if changes.get("rotate_public_key"):
        row.public_key = _new_public_key()
    with workspace_scope(workspace_id), transaction.atomic():
        row.save()
        audit.record(action=audit.Action.PRIVACY_SETTINGS_CHANGED, actor=actor,
                     workspace_id=workspace_id, fields=sorted(changes))
    return row


def privacy_settings_by_key(*, slug: str, public_key: str) -> PrivacySettings | None:
    """The settings of the workspace ``slug`` if ``public_key`` is its storefront key."""
    workspace_id = Workspace.objects.filter(slug=slug).values_list("id", flat=True).first()
    if workspace_id is None or not public_key:
        return None
    row = privacy_settings_ensure(workspace_id=workspace_id)
    return row if secrets.compare_digest(row.public_key, public_key) else None


# --- the ledger -------------------------------------------------------------------------------

def user_agent_hash(user_agent: str) -> str:
    """Evidence of the browser without keeping its full fingerprint: SHA-256, first 16 hex."""
    return hashlib.sha256(user_agent.encode()).hexdigest()[:16] if user_agent else ""


def _check(purpose: str, state: str, source: str, evidence: Mapping[str, Any]) -> None:
    if purpose not in ConsentPurpose.values:
        raise ValidationError(f"unknown purpose {purpose!r}; one of "
                              f"{', '.join(ConsentPurpose.values)}", field="purpose")
    if state not in ConsentState.values:
        raise ValidationError("state is 'granted' or 'withdrawn'", field="state")
    if source not in ConsentSource.values:
        raise ValidationError(f"source is one of {', '.join(ConsentSource.values)}",
                              field="source")
    if purpose == ConsentPurpose.NECESSARY and state == ConsentState.WITHDRAWN:
        raise ValidationError("necessary processing cannot be refused; it delivers the service",
                              field="purpose")
    if len(evidence) > MAX_EVIDENCE_KEYS or any(
            not isinstance(v, str | int | bool) or len(str(v)) > 200 for v in evidence.values()):
        raise ValidationError(f"at most {MAX_EVIDENCE_KEYS} short text values", field="evidence")


@dataclass(frozen=True)
class Decision:
    purpose: str
    state: str


def consent_record_many(*, workspace_id: uuid.UUID, subject: Subject,
                        decisions: list[Decision], source: str, actor: audit.Actor,
                        policy_version: str = "",
                        evidence: Mapping[str, Any] | None = None) -> list[ConsentEntry]:
    """Record several decisions of one subject at once (a banner's choices), all or none.

    Raises ValidationError naming ``purpose`` for an unknown purpose or a grant the age gate
    refuses (children: see ``storesync.privacy.children``)."""
    evidence = dict(evidence or {})
    if not decisions:
        raise ValidationError("at least one decision", field="choices")
    for d in decisions:
        _check(d.purpose, d.state, source, evidence)
        if d.state == ConsentState.GRANTED:
            reason = children.child_restriction(workspace_id=workspace_id, subject=subject,
                                                purpose=d.purpose)
            if reason:
                raise ValidationError(reason, field="purpose")
    if len({d.purpose for d in decisions}) != len(decisions):
        raise ValidationError("one decision per purpose", field="purpose")
    if len(policy_version) > 40:
        raise ValidationError("at most 40 characters", field="policy_version")
    # One timestamp for the batch; entries are ordered by (recorded_at, id), so a later call
    # always sorts after this one (UUIDv7 ids alone are not ordered within a millisecond).
    now = timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        rows = [ConsentEntry(workspace_id=workspace_id, subject_type=subject.type,
                             subject_id=subject.id, purpose=d.purpose, state=d.state,
                             source=source, policy_version=policy_version, evidence=evidence,
                             actor_type=actor.type, actor_id=actor.id, recorded_at=now)
                for d in decisions]
        ConsentEntry.objects.bulk_create(rows)
        if subject.type == SubjectType.CUSTOMER and any(
                d.purpose == ConsentPurpose.MARKETING and d.state == ConsentState.WITHDRAWN
                for d in decisions):
            _unsubscribe_channels(workspace_id, uuid.UUID(subject.id), source, actor)
        audit.record(action=audit.Action.CONSENT_RECORDED, actor=actor,
                     workspace_id=workspace_id, subject_type=subject.type,
                     subject_id=subject.id, purpose=",".join(d.purpose for d in decisions),
                     detail={"source": source,
                             "decisions": {d.purpose: d.state for d in decisions}})
    return rows


def _unsubscribe_channels(workspace_id: uuid.UUID, customer_id: uuid.UUID, source: str,
                          actor: audit.Actor) -> None:
    """A withdrawal of marketing in the ledger also unsubscribes the customer's email and SMS
    marketing states (the Shopify-shaped view that channels and exports read), in the same
    transaction, so the two never disagree."""
    with workspace_scope(workspace_id):
        customer = Customer.objects.filter(id=customer_id).only(
            "email_marketing_state", "sms_marketing_state").first()
    if customer is None:
        return
    for channel in ("email", "sms"):
        if getattr(customer, f"{channel}_marketing_state") == MarketingState.SUBSCRIBED:
            customer_set_marketing_consent(
                workspace_id=workspace_id, customer_id=customer_id, channel=channel,
                consent=ConsentInput(state=MarketingState.UNSUBSCRIBED, source=source),
                actor=actor)


def marketing_consent_set(*, workspace_id: uuid.UUID, customer_id: uuid.UUID, channel: str,
                          consent: ConsentInput, actor: audit.Actor) -> None:
    """Record a customer's email or SMS marketing consent: the channel's state on the customer
    (Shopify's ``emailMarketingConsent`` shape) and a ``marketing`` entry in the consent
    ledger, in one transaction. Subscribing grants marketing (refused for a child without
    guardian consent); unsubscribing withdraws it."""
    granted = consent.state == MarketingState.SUBSCRIBED
    with transaction.atomic():
        customer_set_marketing_consent(workspace_id=workspace_id, customer_id=customer_id,
                                       channel=channel, consent=consent, actor=actor)
        if consent.state == MarketingState.NOT_SUBSCRIBED:
            return  # "never asked" is no decision
        consent_record(workspace_id=workspace_id,
                       subject=Subject(SubjectType.CUSTOMER, str(customer_id)),
                       purpose=ConsentPurpose.MARKETING,
                       state=ConsentState.GRANTED if granted else ConsentState.WITHDRAWN,
                       source=_ledger_source(consent.source), actor=actor,
                       evidence={"channel": channel, "source": consent.source[:64]})


def _ledger_source(source: str) -> str:
    """The ledger's source for a channel consent's free-text source."""
    return source if source in ConsentSource.values else ConsentSource.API


def consent_record(*, workspace_id: uuid.UUID, subject: Subject, purpose: str, state: str,
                   source: str, actor: audit.Actor, policy_version: str = "",
                   evidence: Mapping[str, Any] | None = None) -> ConsentEntry:
    """Record one decision; see ``consent_record_many``."""
    return consent_record_many(workspace_id=workspace_id, subject=subject,
                               decisions=[Decision(purpose, state)], source=source, actor=actor,
                               policy_version=policy_version, evidence=evidence)[0]


def consent_withdraw(*, workspace_id: uuid.UUID, subject: Subject, purpose: str, source: str,
                     actor: audit.Actor,
                     evidence: Mapping[str, Any] | None = None) -> ConsentEntry:
    """Withdraw consent for one purpose: one call, always accepted, effective at once."""
    return consent_record(workspace_id=workspace_id, subject=subject, purpose=purpose,
                          state=ConsentState.WITHDRAWN, source=source, actor=actor,
                          evidence=evidence)


def consent_record_gpc(*, workspace_id: uuid.UUID, subject: Subject, actor: audit.Actor,
                       evidence: Mapping[str, Any] | None = None) -> ConsentEntry | None:
    """Honour a Global Privacy Control signal (``Sec-GPC: 1``) as an opt-out of sale/sharing.

    CCPA regulations, 11 CCR § 7025, require treating GPC as a valid request to opt out of sale
    and sharing. Recorded once: if the latest sale_share entry is already a withdrawal, nothing
    new is written (returns None)."""
    current = consent_current(workspace_id=workspace_id, subject=subject)
    latest = current.get(ConsentPurpose.SALE_SHARE)
    if latest is not None and latest.state == ConsentState.WITHDRAWN:
        return None
    return consent_withdraw(workspace_id=workspace_id, subject=subject,
                            purpose=ConsentPurpose.SALE_SHARE, source=ConsentSource.GPC_SIGNAL,
                            actor=actor, evidence={**(evidence or {}), "gpc": True})


# --- one-click unsubscribe (RFC 8058) ---------------------------------------------------------

def unsubscribe_token(*, workspace_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """A signed, login-free token for a marketing email's List-Unsubscribe link."""
    return signing.dumps({"w": str(workspace_id), "c": str(customer_id)}, salt=UNSUBSCRIBE_SALT,
                         compress=True)


def unsubscribe_headers(*, base_url: str, workspace_id: uuid.UUID,
                        customer_id: uuid.UUID) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers every marketing email must carry."""
    token = unsubscribe_token(workspace_id=workspace_id, customer_id=customer_id)
    return {"List-Unsubscribe": f"<{base_url.rstrip('/')}/privacy/unsubscribe/{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def unsubscribe_verify(*, token: str) -> tuple[uuid.UUID, Subject]:
    """The workspace and customer of a valid token; ValidationError if forged or expired."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE_S)
        return uuid.UUID(data["w"]), Subject(SubjectType.CUSTOMER, str(uuid.UUID(data["c"])))
    except signing.SignatureExpired:
        raise ValidationError("this unsubscribe link has expired", field="token") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError("this unsubscribe link is not valid", field="token") from None


def unsubscribe_apply(*, token: str, user_agent: str = "") -> tuple[uuid.UUID, ConsentEntry]:
    """Verify the token and withdraw marketing consent (source: unsubscribe link)."""
    workspace_id, subject = unsubscribe_verify(token=token)
    entry = consent_withdraw(workspace_id=workspace_id, subject=subject,
                             purpose=ConsentPurpose.MARKETING,
                             source=ConsentSource.UNSUBSCRIBE_LINK,
                             actor=audit.Actor("subject", subject.id),
                             evidence={"user_agent_sha256": user_agent_hash(user_agent),
                                       "method": "rfc8058"})
    return workspace_id, entry


# --- reads ------------------------------------------------------------------------------------

def consent_current(*, workspace_id: uuid.UUID, subject: Subject) -> dict[str, ConsentEntry]:
    """The latest entry per purpose (purposes never decided are absent)."""
    with workspace_scope(workspace_id):
        rows = ConsentEntry.objects.filter(subject_type=subject.type, subject_id=subject.id)
        latest: dict[str, ConsentEntry] = {}
        for row in rows.order_by("recorded_at", "id"):
            latest[row.purpose] = row
    return latest


def consent_history(*, workspace_id: uuid.UUID, subject: Subject,
                    limit: int = 500) -> list[ConsentEntry]:
    """Every decision of a subject, newest first."""
    with workspace_scope(workspace_id):
        return list(ConsentEntry.objects.filter(subject_type=subject.type,
                                                subject_id=subject.id)
                    .order_by("-recorded_at", "-id")[:limit])


def consent_allows(*, workspace_id: uuid.UUID, subject: Subject, purpose: str) -> bool:
    """Whether ``purpose`` may be used for this subject now. Marketing sends and exports ask
    this before each subject: no decision means no; a child restriction means no."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError(f"unknown purpose {purpose!r}", field="purpose")
    if purpose == ConsentPurpose.NECESSARY:
        return True
    latest = consent_current(workspace_id=workspace_id, subject=subject).get(purpose)
    if latest is None or latest.state != ConsentState.GRANTED:
        return False
    return children.child_restriction(workspace_id=workspace_id, subject=subject,
                                      purpose=purpose) is None


def consent_subjects_allowing(*, workspace_id: uuid.UUID, purpose: str,
                              subject_type: str = SubjectType.CUSTOMER) -> set[str]:
    """Ids of every subject whose latest decision on ``purpose`` is a grant and whom no child
    restriction covers: the audience a marketing export may use."""
    with workspace_scope(workspace_id):
        latest: dict[str, str] = {}
        rows = ConsentEntry.objects.filter(subject_type=subject_type, purpose=purpose)
        for sid, state in rows.order_by("recorded_at", "id").values_list(
                "subject_id", "state").iterator(chunk_size=5000):
            latest[sid] = state
        allowed = {sid for sid, state in latest.items() if state == ConsentState.GRANTED}
        minors = set(SubjectAge.objects.filter(subject_type=subject_type, under_age=True,
                                               subject_id__in=allowed)
                     .values_list("subject_id", flat=True))
    return {sid for sid in allowed if sid not in minors or children.child_restriction(
        workspace_id=workspace_id, subject=Subject(subject_type, sid), purpose=purpose) is None}


def consent_last_changed(entries: Mapping[str, ConsentEntry]) -> datetime | None:
    return max((e.recorded_at for e in entries.values()), default=None)
