"""Privacy-policy versions: publish, accept, acknowledge; change notices by mail and banner.

Publishing a version (one transaction) stores it, raises an in-app notice for every member of
the workspace, and, after commit, enqueues a job that mails the members and every customer who
accepted an older version, in batches (``storesync.privacy.tasks``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Membership, Workspace
from storesync.core.tenancy import workspace_scope
from storesync.privacy.governance_models import (
    PolicyAcceptance,
    PolicyStaffNotice,
    PolicyVersion,
)
from storesync.privacy.subjects import Subject
from storesync.security import audit

ACCEPTANCE_SOURCES = ("storefront_banner", "checkout", "api", "staff", "email")


def _validate(version: str, body: str, url: str, summary: str, effective_at: datetime) -> None:
    if not version.strip() or len(version) > 40:
        raise ValidationError("a version label of 1-40 characters", field="version")
    if not body.strip() and not url.strip():
        raise ValidationError("give the policy text or a URL where it is published",
                              field="body")
    if url and not url.startswith("https://"):
        raise ValidationError("an https:// URL", field="url")
    if not summary.strip():
        raise ValidationError("summarise what changed: people are told this", field="summary")
    if timezone.is_naive(effective_at):
        raise ValidationError("a time with a UTC offset", field="effective_at")


def policy_publish(*, workspace_id: uuid.UUID, version: str, summary: str,
                   effective_at: datetime, actor: audit.Actor, body: str = "", url: str = "",
                   title: str = "Privacy policy") -> PolicyVersion:
    """Publish a new version; notify members (banner now, mail after commit) and customers who
    accepted an older version (mail after commit)."""
    from storesync.privacy import tasks

    _validate(version, body, url, summary, effective_at)
    with workspace_scope(workspace_id):
        try:
            with transaction.atomic():
                policy = PolicyVersion(workspace_id=workspace_id, version=version.strip(),
                                       title=title.strip()[:200] or "Privacy policy",
                                       body=body.strip(), url=url.strip(),
                                       summary=summary.strip(), effective_at=effective_at,
                                       published_by=f"{actor.type}:{actor.id}")
                policy.save(force_insert=True)
                users = Membership.objects.values_list("user_id", flat=True)
                PolicyStaffNotice.objects.bulk_create(
                    PolicyStaffNotice(workspace_id=workspace_id, policy=policy, user_id=u)
                    for u in users)
                audit.record(action=audit.Action.POLICY_PUBLISHED, actor=actor,
                             workspace_id=workspace_id, subject_type="policy",
                             subject_id=policy.id, detail={"version": policy.version})
                transaction.on_commit(lambda: tasks.send_policy_change_notices(
                    str(workspace_id), str(policy.id)))
        except IntegrityError:
            raise Conflict(f"version {version!r} is already published",
                           field="version") from None
    return policy


def policy_get(*, workspace_id: uuid.UUID, policy_id: uuid.UUID | str) -> PolicyVersion:
    """The version, or NotFound (also for another workspace's id)."""
    try:
        pid = uuid.UUID(str(policy_id))
    except ValueError:
        raise NotFound("no such policy version") from None
    with workspace_scope(workspace_id):
        found = PolicyVersion.objects.filter(id=pid).first()
    if found is None:
        raise NotFound("no such policy version")
    return found


def policy_accept(*, workspace_id: uuid.UUID, policy_id: uuid.UUID | str, subject: Subject,
                  source: str, actor: audit.Actor) -> PolicyAcceptance:
    """Record that a subject accepted a version (idempotent: the first acceptance stands)."""
    if source not in ACCEPTANCE_SOURCES:
        raise ValidationError(f"source is one of {', '.join(ACCEPTANCE_SOURCES)}",
                              field="source")
    policy = policy_get(workspace_id=workspace_id, policy_id=policy_id)
    with workspace_scope(workspace_id), transaction.atomic():
        row, created = PolicyAcceptance.objects.get_or_create(
            policy=policy, subject_type=subject.type, subject_id=subject.id,
            defaults={"source": source, "workspace_id": workspace_id})
        if created:
            audit.record(action=audit.Action.POLICY_ACCEPTED, actor=actor,
                         workspace_id=workspace_id, subject_type=subject.type,
                         subject_id=subject.id, detail={"version": policy.version,
                                                        "source": source})
    return row


def policy_acknowledge(*, workspace_id: uuid.UUID, policy_id: uuid.UUID | str,
                       user_id: uuid.UUID) -> None:
    """A member read the change notice: hide their banner and record their acceptance."""
    policy = policy_get(workspace_id=workspace_id, policy_id=policy_id)
    with workspace_scope(workspace_id), transaction.atomic():
        # Reading the newest version supersedes the notices of older ones.
        PolicyStaffNotice.objects.filter(policy__published_at__lte=policy.published_at,
                                         user_id=user_id, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now())
    policy_accept(workspace_id=workspace_id, policy_id=policy.id,
                  subject=Subject("user", str(user_id)), source="staff",
                  actor=audit.Actor("user", str(user_id)))


# --- reads ------------------------------------------------------------------------------------

def policy_list(*, workspace_id: uuid.UUID) -> list[PolicyVersion]:
    """Every published version, newest effective date first."""
    with workspace_scope(workspace_id):
        return list(PolicyVersion.objects.order_by("-effective_at", "-id"))


def policy_current(*, workspace_id: uuid.UUID) -> PolicyVersion | None:
    """The version in force now (the latest whose effective date has passed)."""
    with workspace_scope(workspace_id):
        return (PolicyVersion.objects.filter(effective_at__lte=timezone.now())
                .order_by("-effective_at", "-id").first())


def policy_public(*, slug: str) -> tuple[Workspace, PolicyVersion | None, list[PolicyVersion]]:
    """For the public page: the workspace, its current version and the full history."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise NotFound("no such shop")
    return (workspace, policy_current(workspace_id=workspace.id),
            policy_list(workspace_id=workspace.id))


def policy_pending_notice(*, workspace_id: uuid.UUID,
                          user_id: uuid.UUID) -> PolicyVersion | None:
    """The newest version this member has not acknowledged yet, for the staff banner."""
    with workspace_scope(workspace_id):
        notice = (PolicyStaffNotice.objects.filter(user_id=user_id, acknowledged_at__isnull=True)
                  .select_related("policy").order_by("-created_at").first())
    return notice.policy if notice else None
