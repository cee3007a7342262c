"""The audit log: append-only, hash-chained per workspace, keyed with the master key.

Each event's ``hash`` is HMAC-SHA256(audit key, canonical JSON of the event including
``prev_hash``). Changing, deleting or reordering any row breaks the chain from that row on;
the chain head (``AuditChainHead``) catches a deleted tail. Retention prunes a chain only
from its start, only after verifying the pruned part, and leaves a keyed checkpoint on the
head (``base_seq``/``base_hash``/``base_mac``) from which verification continues. Because
the HMAC key derives from the master key, which the database never holds, someone with only
database access cannot forge a consistent chain.

Calls are keyword-only with an ``Action`` enum, so an audit call cannot be written wrong.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from hashlib import sha256
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.security import keyring
from storesync.security.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


class Action(StrEnum):
    WORKSPACE_CREATED = "workspace.created"
    MEMBER_INVITED = "member.invited"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    INVITATION_REVOKED = "invitation.revoked"
    ROLE_CREATED = "role.created"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    PERSONAL_DATA_READ = "personal_data.read"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    KEYS_ROTATED = "keys.rotated"
    CONNECTION_CREATED = "connection.created"
    STOCK_NEGATIVE_OVERRIDE = "stock.negative_override"
    STOCK_SETTINGS_CHANGED = "stock.settings_changed"
    LOCATION_UPDATED = "location.updated"
    MFA_ENROLLED = "mfa.enrolled"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    # privacy engine: consent, policies, children, processors, breaches
    CONSENT_RECORDED = "consent.recorded"
    PRIVACY_SETTINGS_CHANGED = "privacy.settings_changed"
    SUBJECT_AGE_RECORDED = "privacy.subject_age_recorded"
    GUARDIAN_CONSENT_RECORDED = "privacy.guardian_consent_recorded"
    POLICY_PUBLISHED = "policy.published"
    POLICY_ACCEPTED = "policy.accepted"
    POLICY_NOTICES_SENT = "policy.notices_sent"
    PROCESSOR_CREATED = "processor.created"
    PROCESSOR_UPDATED = "processor.updated"
    PROCESSOR_SHARED = "processor.shared"
    BREACH_RECORDED = "breach.recorded"
    BREACH_NOTICE_EDITED = "breach.notice_edited"
    BREACH_NOTICE_SENT = "breach.notice_sent"
    PRIVACY_REQUEST_RECEIVED = "privacy.request_received"
    PRIVACY_REQUEST_VERIFIED = "privacy.request_verified"
    PRIVACY_REQUEST_APPROVED = "privacy.request_approved"
    PRIVACY_REQUEST_COMPLETED = "privacy.request_completed"
    PRIVACY_REQUEST_REJECTED = "privacy.request_rejected"
    PRIVACY_SUBJECT_ERASED = "privacy.subject_erased"
    PRIVACY_EXPORT_DOWNLOADED = "privacy.export_downloaded"
    PRIVACY_RESTRICTION_CHANGED = "privacy.restriction_changed"
    PRIVACY_CORRECTION_APPLIED = "privacy.correction_applied"
    PRIVACY_PROPAGATION_RESULT = "privacy.propagation_result"
    PRIVACY_PROCESSOR_NOTIFIED = "privacy.processor_notified"
    PRIVACY_SUBJECT_NOTIFIED = "privacy.subject_notified"
    CHANNEL_PRIVACY_CALL = "channel.privacy_call"
    RETENTION_SWEPT = "privacy.retention_swept"
    RIGHTS_SETTINGS_CHANGED = "privacy.rights_settings_changed"
    # channel engine: dead letters and the listing mapping
    DEAD_LETTERS_REPLAYED = "channel.dead_letters_replayed"
    LISTING_LINKED = "listing.linked"
    LISTING_CHANGED = "listing.changed"
    LISTING_UNLINKED = "listing.unlinked"


@dataclass(frozen=True)
class Actor:
    """Who did it: ``user`` (a person signed in), ``token`` (an API token) or ``system``."""

    type: str
    id: str = ""

    @classmethod
    def system(cls, name: str = "storesync") -> Actor:
        return cls("system", name)


@dataclass(frozen=True)
class Entry:
    action: Action
    actor: Actor
    workspace_id: uuid.UUID | None
    subject_type: str = ""
    subject_id: str = ""
    fields: Sequence[str] = ()
    purpose: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def chain_of(workspace_id: uuid.UUID | None) -> str:
    return str(workspace_id) if workspace_id else "system"


def _digest(key: bytes, values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), sha256).hexdigest()


def _content(event: AuditEvent) -> dict[str, Any]:
    occurred: datetime = event.occurred_at
    return {
        "chain": event.chain,
        "seq": event.seq,
        "occurred_at": occurred.astimezone(UTC).isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "fields": list(event.fields),
        "purpose": event.purpose,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }


def record(
    *,
    action: Action,
    actor: Actor,
    workspace_id: uuid.UUID | None,
    subject_type: str = "",
    subject_id: str | uuid.UUID = "",
    fields: Sequence[str] = (),
    purpose: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the workspace's chain (in the caller's transaction, if any)."""
    entry = Entry(
        action,
        actor,
        workspace_id,
        subject_type,
        str(subject_id),
        tuple(fields),
        purpose,
        detail or {},
    )
    return record_many([entry])[0]


def record_many(entries: Iterable[Entry]) -> list[AuditEvent]:
    """Append many events, one lock and one insert per chain."""
    by_chain: dict[str, list[Entry]] = {}
    for entry in entries:
        by_chain.setdefault(chain_of(entry.workspace_id), []).append(entry)
    key = keyring.get().audit_key
    created: list[AuditEvent] = []
    with transaction.atomic():
        for chain, items in sorted(by_chain.items()):  # fixed order: no deadlock between chains
            head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
            if head is None:  # the chain's first event: create its head, then lock it
                AuditChainHead.objects.get_or_create(chain=chain)
                head = AuditChainHead.objects.select_for_update().get(chain=chain)
            now = timezone.now()
            rows = []
            for entry in items:
                event = AuditEvent(
                    chain=chain,
                    seq=head.seq + 1,
                    occurred_at=now,
                    actor_type=entry.actor.type,
                    actor_id=entry.actor.id,
                    action=str(entry.action),
                    subject_type=entry.subject_type,
                    subject_id=entry.subject_id,
                    fields=sorted(entry.fields),
                    purpose=entry.purpose,
                    detail=entry.detail,
                    prev_hash=head.hash,
                )
                event.hash = _digest(key, _content(event))
                head.seq, head.hash = event.seq, event.hash
                rows.append(event)
            AuditEvent.objects.bulk_create(rows, batch_size=500)
            AuditChainHead.objects.filter(chain=chain).update(seq=head.seq, hash=head.hash)
            created.extend(rows)
    return created


@dataclass
class ChainReport:
    chain: str
    events: int
    ok: bool
    problem: str = ""


def _base_mac(key: bytes, chain: str, base_seq: int, base_hash: str) -> str:
    return _digest(key, {"checkpoint": chain, "base_seq": base_seq, "base_hash": base_hash})


def _checkpoint_problem(head: AuditChainHead | None, key: bytes) -> str:
    if head is None or (head.base_seq == 0 and not head.base_mac):
        return ""
    if not hmac.compare_digest(_base_mac(key, head.chain, head.base_seq, head.base_hash),
                               head.base_mac):
        return (f"the chain's checkpoint (events up to #{head.base_seq} pruned) was altered: "
                "its seal does not match")
    return ""


def _verify_chain(chain: str, key: bytes, batch: int = 5000) -> ChainReport:
    head = AuditChainHead.objects.filter(chain=chain).first()
    problem = _checkpoint_problem(head, key)
    if problem:
        return ChainReport(chain, 0, False, problem)
    base_seq, base_hash = (head.base_seq, head.base_hash) if head else (0, GENESIS)
    expected_seq, prev_hash, count, last_id = base_seq + 1, base_hash, 0, 0
    while True:
        rows = list(AuditEvent.objects.filter(chain=chain, seq__gt=base_seq, id__gt=last_id)
                    .order_by("id")[:batch])
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                what = "deleted" if event.seq > expected_seq else "duplicated or reordered"
                return ChainReport(
                    chain,
                    count,
                    False,
                    f"event #{expected_seq} is missing ({what}); next found is "
                    f"#{event.seq} (row id {event.id})",
                )
            if event.prev_hash != prev_hash:
                return ChainReport(
                    chain,
                    count,
                    False,
                    f"event #{event.seq} (row id {event.id}) does not link to "
                    f"event #{event.seq - 1}: a row before it was changed or removed",
                )
            if not hmac.compare_digest(_digest(key, _content(event)), event.hash):
                return ChainReport(
                    chain,
                    count,
                    False,
                    f"event #{event.seq} (row id {event.id}) was altered: its "
                    "content no longer matches its hash",
                )
            prev_hash, expected_seq, count, last_id = (
                event.hash,
                expected_seq + 1,
                count + 1,
                event.id,
            )
    if head is None:
        if count:
            return ChainReport(chain, count, False, "the chain head is missing")
        return ChainReport(chain, 0, True)
    if head.seq != expected_seq - 1 or head.hash != prev_hash:
        return ChainReport(
            chain,
            count,
            False,
            f"the chain ends at event #{expected_seq - 1} but its head records #{head.seq}: "
            "events at the end were deleted",
        )
    return ChainReport(chain, count, True)


class AuditChainBroken(Exception):
    """Pruning refused: the part to prune does not verify, and deleting it would hide that."""


def prune_through(chain: str, seq: int) -> int:
    """Delete the chain's events up to ``seq`` (retention), after verifying them.

    The head keeps a keyed checkpoint (the last pruned event's seq and hash) so that
    verification of what remains still proves nothing was removed or changed. Returns how many
    events were deleted. The caller's transaction (or this one) makes it all-or-nothing.
    """
    from storesync.core.logs import get_logger

    key = keyring.get().audit_key
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
        if head is None:
            return 0
        problem = _checkpoint_problem(head, key)
        if problem:
            raise AuditChainBroken(problem)
        seq = min(seq, head.seq)
        if seq <= head.base_seq:
            return 0
        prev_hash, expected = head.base_hash, head.base_seq + 1
        for event in AuditEvent.objects.filter(chain=chain, seq__gt=head.base_seq,
                                               seq__lte=seq).order_by("seq").iterator(5000):
            if (event.seq != expected or event.prev_hash != prev_hash
                    or not hmac.compare_digest(_digest(key, _content(event)), event.hash)):
                raise AuditChainBroken(f"event #{expected} of chain {chain} does not verify; "
                                       "nothing was pruned")
            prev_hash, expected = event.hash, expected + 1
        if expected != seq + 1:
            raise AuditChainBroken(f"event #{expected} of chain {chain} is missing; "
                                   "nothing was pruned")
        deleted, _ = AuditEvent.objects.filter(chain=chain, seq__lte=seq).delete()
        AuditChainHead.objects.filter(chain=chain).update(
            base_seq=seq, base_hash=prev_hash, base_mac=_base_mac(key, chain, seq, prev_hash))
    # a witness outside the database, like the heads logged after verification
    get_logger(__name__).info("audit_chain_pruned", chain=chain, base_seq=seq,
                              base_hash=prev_hash, deleted=deleted)
    return deleted


def verify(chains: Iterable[str] | None = None) -> Iterator[ChainReport]:
    """Check every chain (or the ones named); yields one report per chain."""
    key = keyring.get().audit_key
    names = (
        set(chains)
        if chains is not None
        else (
            set(AuditChainHead.objects.values_list("chain", flat=True))
            | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
        )
    )
    for chain in sorted(names):
        yield _verify_chain(chain, key)


def verify_and_record(chains: Iterable[str] | None = None) -> list[ChainReport]:
    """Verify, store the outcome (for /metrics and the UI) and log every chain head.

    The logged heads are a witness outside the database: a log shipped elsewhere lets a later
    check notice a chain rewritten by someone who also held the master key.
    """
    from storesync.core.logs import get_logger
    from storesync.security.models import AuditVerification

    reports = list(verify(chains))
    heads = {h.chain: [h.seq, h.hash] for h in AuditChainHead.objects.all()}
    get_logger(__name__).info("audit_chain_heads", count=len(heads), heads=heads)
    AuditVerification.objects.create(
        ok=all(r.ok for r in reports), chains=len(reports),
        events=sum(r.events for r in reports),
        problems=[{"chain": r.chain, "problem": r.problem} for r in reports if not r.ok],
    )
    return reports


def events_for_subject(
    *, workspace_id: uuid.UUID, subject_type: str, subject_id: str
) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            chain=chain_of(workspace_id), subject_type=subject_type, subject_id=subject_id
        ).order_by("seq")
    )
