"""The consent ledger: record decisions, derive the current state, answer ``consent_allows``.

Every decision is a new ``ConsentEntry``; the current state of a purpose is its latest entry,
and a purpose nobody decided on is *not* allowed (opt-in), except ``necessary``, which is the
service itself and cannot be refused.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import FirstValue
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer, MarketingState
from storesync.customers.services import ConsentInput, customer_set_marketing_consent
from storesync.customers.signals import ChannelConsent, MarketingConsentGiven
from storesync.privacy import children, policies, restrictions
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
                actor=actor, notify=False)


def marketing_consent_set(*, workspace_id: uuid.UUID, customer_id: uuid.UUID, channel: str,
                          consent: ConsentInput, actor: audit.Actor) -> None:
    """Record a customer's email or SMS marketing consent: the channel's state on the customer
    (Shopify's ``emailMarketingConsent`` shape) and a ``marketing`` entry in the consent
    ledger, in one transaction. Subscribing grants marketing (refused for a child without
    guardian consent); unsubscribing withdraws it.

    The ledger entry is written by ``marketing_consents_record``, which hears every stored
    channel consent (``customers.signals.marketing_consent_given``), whoever stored it."""
    with transaction.atomic():
        customer_set_marketing_consent(workspace_id=workspace_id, customer_id=customer_id,
                                       channel=channel, consent=consent, actor=actor)


def _ledger_decision(given: MarketingConsentGiven) -> tuple[str, ChannelConsent] | None:
    """The ledger's one ``marketing`` decision for the channel states given together: a grant
    if any channel is subscribed, a withdrawal if none is and one was unsubscribed, nothing
    for "never asked". With the channel whose consent decided it."""
    for wanted, state in ((MarketingState.SUBSCRIBED, ConsentState.GRANTED),
                          (MarketingState.UNSUBSCRIBED, ConsentState.WITHDRAWN)):
        deciding = next((c for c in given.channels if c.state == wanted), None)
        if deciding is not None:
            return state, deciding
    return None


def marketing_consents_record(*, workspace_id: uuid.UUID, actor: audit.Actor,
                              given: Sequence[MarketingConsentGiven]) -> list[ConsentEntry]:
    """The ledger entries for channel consents just stored (one per customer), with the
    policy version in force, the ledger source for the channel's free-text source, and the
    evidence of what was given (channel, source, opt-in level, time, each channel's state).

    Called in the transaction that stored them: a grant the age gate refuses raises
    ValidationError (field ``purpose``) and the whole write is undone. A withdrawal after
    creation unsubscribes the customer's other channels, as any ledger withdrawal does."""
    decided = [(g, d) for g in given if (d := _ledger_decision(g)) is not None]
    if not decided:
        return []
    granted = [str(g.customer_id) for g, (state, _) in decided if state == ConsentState.GRANTED]
    with workspace_scope(workspace_id):
        minors = set(SubjectAge.objects.filter(
            subject_type=SubjectType.CUSTOMER, under_age=True, subject_id__in=granted)
            .values_list("subject_id", flat=True))
    for sid in sorted(minors):
        reason = children.child_restriction(
            workspace_id=workspace_id, subject=Subject(SubjectType.CUSTOMER, sid),
            purpose=ConsentPurpose.MARKETING)
        if reason:
            raise ValidationError(reason, field="purpose")
    policy = policies.policy_current(workspace_id=workspace_id)
    now = timezone.now()
    rows = []
    for g, (state, channel) in decided:
        at = channel.consented_at
        evidence: dict[str, Any] = {
            "channel": channel.channel, "source": channel.source[:64],
            "opt_in_level": channel.opt_in_level, "consented_at": at.isoformat() if at else "",
            "given": "with_customer_details" if g.at_creation else "channel_consent",
            **{f"{c.channel}_state": c.state for c in g.channels}}
        rows.append(ConsentEntry(
            workspace_id=workspace_id, subject_type=SubjectType.CUSTOMER,
            subject_id=str(g.customer_id), purpose=ConsentPurpose.MARKETING, state=state,
            source=_ledger_source(channel.source), policy_version=policy.version if policy else "",
            evidence=evidence, actor_type=actor.type, actor_id=actor.id, recorded_at=now))
    with workspace_scope(workspace_id), transaction.atomic():
        ConsentEntry.objects.bulk_create(rows, batch_size=1000)
        for (g, (state, _)), row in zip(decided, rows, strict=True):
            if state == ConsentState.WITHDRAWN and not g.at_creation:
                _unsubscribe_channels(workspace_id, g.customer_id, row.source, actor)
        audit.record_many([audit.Entry(
            action=audit.Action.CONSENT_RECORDED, actor=actor, workspace_id=workspace_id,
            subject_type=SubjectType.CUSTOMER, subject_id=row.subject_id, purpose=row.purpose,
            detail={"source": row.source, "decisions": {row.purpose: row.state}})
            for row in rows])
    return rows


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


@dataclass(frozen=True)
class Allowance:
    """Whether a purpose may be used for a subject now, and if not, why (shown to staff)."""

    allowed: bool
    reason: str = ""


def _allowance(workspace_id: uuid.UUID, subject: Subject, purpose: str,
               latest: ConsentEntry | None) -> Allowance:
    if purpose == ConsentPurpose.NECESSARY:
        return Allowance(True)
    # A restriction or objection binds whatever the ledger says, so it is named first: a
    # fresh grant would not change the answer, lifting the restriction would.
    if subject.type == SubjectType.CUSTOMER:
        restricted = restrictions.restriction_reason(workspace_id=workspace_id,
                                                     customer_id=subject.id, purpose=purpose)
        if restricted:
            return Allowance(False, restricted)
    if latest is None:
        return Allowance(False, "no decision recorded (opt-in)")
    if latest.state != ConsentState.GRANTED:
        return Allowance(False, f"withdrawn on {latest.recorded_at:%Y-%m-%d}")
    child = children.child_restriction(workspace_id=workspace_id, subject=subject,
                                       purpose=purpose)
    return Allowance(False, child) if child else Allowance(True)


def consent_check(*, workspace_id: uuid.UUID, subject: Subject, purpose: str) -> Allowance:
    """Whether ``purpose`` may be used for this subject now, and why not: no decision, a
    withdrawal, a child restriction, or a restriction/objection/do-not-sell request."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError(f"unknown purpose {purpose!r}", field="purpose")
    latest = consent_current(workspace_id=workspace_id, subject=subject).get(purpose)
    return _allowance(workspace_id, subject, purpose, latest)


def consent_summary(*, workspace_id: uuid.UUID, subject: Subject,
                    current: Mapping[str, ConsentEntry] | None = None) -> dict[str, Allowance]:
    """``consent_check`` for every purpose (``current``: the ledger's latest entries, if the
    caller has them already)."""
    if current is None:
        current = consent_current(workspace_id=workspace_id, subject=subject)
    return {p: _allowance(workspace_id, subject, p, current.get(p))
            for p in ConsentPurpose.values}


def consent_allows(*, workspace_id: uuid.UUID, subject: Subject, purpose: str) -> bool:
    """Whether ``purpose`` may be used for this subject now. Marketing sends and exports ask
    this before each subject: no decision means no; a child restriction means no; a
    restriction, objection or do-not-sell request covering the purpose means no."""
    return consent_check(workspace_id=workspace_id, subject=subject, purpose=purpose).allowed


@dataclass(frozen=True)
class Audience:
    """The subjects a purpose may be used for, and how many grants were left out and why."""

    subject_ids: set[str]
    excluded: dict[str, int]  # "restriction" | "under_age" -> subjects with a grant left out


def consent_audience(*, workspace_id: uuid.UUID, purpose: str,
                     subject_type: str = SubjectType.CUSTOMER) -> Audience:
    """Every subject whose latest decision on ``purpose`` is a grant, less those a
    restriction, objection or do-not-sell request covers and the children the age gate
    covers: the audience a marketing export may use."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError(f"unknown purpose {purpose!r}", field="purpose")
    with workspace_scope(workspace_id):
        # Each subject's latest decision, picked by the database (a window over the ledger):
        # only the ids of subjects whose latest decision is a grant reach Python, not the
        # whole history of every subject.
        latest_state = Window(FirstValue("state"), partition_by=[F("subject_id")],
                              order_by=[F("recorded_at").desc(), F("id").desc()])
        allowed = set(ConsentEntry.objects.filter(subject_type=subject_type, purpose=purpose)
                      .annotate(latest_state=latest_state)
                      .filter(latest_state=ConsentState.GRANTED)
                      .values_list("subject_id", flat=True).distinct())
        minors = set(SubjectAge.objects.filter(subject_type=subject_type, under_age=True,
                                               subject_id__in=allowed)
                     .values_list("subject_id", flat=True))
    use = restrictions.USE_OF_PURPOSE.get(purpose)
    restricted: set[str] = set()
    if subject_type == SubjectType.CUSTOMER and use is not None:
        restricted = {str(cid) for cid in restrictions.restricted_customer_ids(
            workspace_id=workspace_id, use=use)} & allowed
    children_out = {sid for sid in minors - restricted if children.child_restriction(
        workspace_id=workspace_id, subject=Subject(subject_type, sid), purpose=purpose)}
    return Audience(subject_ids=allowed - restricted - children_out,
                    excluded={"restriction": len(restricted), "under_age": len(children_out)})


def consent_subjects_allowing(*, workspace_id: uuid.UUID, purpose: str,
                              subject_type: str = SubjectType.CUSTOMER) -> set[str]:
    """Ids of every subject a purpose may be used for now (see ``consent_audience``)."""
    return consent_audience(workspace_id=workspace_id, purpose=purpose,
                            subject_type=subject_type).subject_ids


def consent_last_changed(entries: Mapping[str, ConsentEntry]) -> datetime | None:
    return max((e.recorded_at for e in entries.values()), default=None)
