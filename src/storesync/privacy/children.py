"""Children: an age gate per workspace, and verifiable guardian consent.

Under the DPDP Act 2023, s. 9, a "child" is anyone under 18: processing a child's data needs
the verifiable consent of a parent or lawful guardian (s. 9(1); DPDP Rules 2025, rule 10), and
tracking, behavioural monitoring and targeted advertising directed at children are not allowed
at all (s. 9(3)). storesync therefore refuses, for a subject marked under the workspace's
minimum age:

* marketing and personalisation consent, unless guardian consent is on record;
* sale/sharing consent, always (targeted advertising is what a sale or share enables).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.privacy.consent_models import (
    ConsentPurpose,
    ConsentSource,
    GuardianConsent,
    GuardianMethod,
    PrivacySettings,
    SubjectAge,
)
from storesync.privacy.subjects import Subject
from storesync.security import audit

NEEDS_GUARDIAN = frozenset({ConsentPurpose.MARKETING, ConsentPurpose.PERSONALISATION})
NEVER_FOR_CHILDREN = frozenset({ConsentPurpose.SALE_SHARE})


def subject_age_set(*, workspace_id: uuid.UUID, subject: Subject, under_age: bool,
                    source: str = ConsentSource.STAFF, actor: audit.Actor) -> SubjectAge:
    """Mark a subject as under (or not under) the workspace's minimum age."""
    if source not in ConsentSource.values:
        raise ValidationError(f"source is one of {', '.join(ConsentSource.values)}",
                              field="source")
    with workspace_scope(workspace_id), transaction.atomic():
        row, _ = SubjectAge.objects.update_or_create(
            subject_type=subject.type, subject_id=subject.id,
            defaults={"under_age": under_age, "source": source,
                      "recorded_at": timezone.now(), "workspace_id": workspace_id})
        audit.record(action=audit.Action.SUBJECT_AGE_RECORDED, actor=actor,
                     workspace_id=workspace_id, subject_type=subject.type,
                     subject_id=subject.id, detail={"under_age": under_age, "source": source})
    return row


def guardian_consent_record(*, workspace_id: uuid.UUID, subject: Subject, guardian_name: str,
                            guardian_contact: str, method: str, verified_at: datetime,
                            actor: audit.Actor) -> GuardianConsent:
    """Record verifiable guardian consent for a child; name and contact are encrypted."""
    name, contact = guardian_name.strip(), guardian_contact.strip()
    if not name or len(name) > 200:
        raise ValidationError("the guardian's name, up to 200 characters", field="guardian_name")
    if not contact or len(contact) > 254:
        raise ValidationError("an email or phone number to reach the guardian",
                              field="guardian_contact")
    if method not in GuardianMethod.values:
        raise ValidationError(f"method is one of {', '.join(GuardianMethod.values)}",
                              field="method")
    if timezone.is_naive(verified_at):
        raise ValidationError("a time with a UTC offset", field="verified_at")
    if verified_at > timezone.now():
        raise ValidationError("verification cannot be in the future", field="verified_at")
    with workspace_scope(workspace_id), transaction.atomic():
        row = GuardianConsent(workspace_id=workspace_id, subject_type=subject.type,
                              subject_id=subject.id, guardian_name=name,
                              guardian_contact=contact, method=method, verified_at=verified_at,
                              actor_type=actor.type, actor_id=actor.id)
        row.save(force_insert=True)
        audit.record(action=audit.Action.GUARDIAN_CONSENT_RECORDED, actor=actor,
                     workspace_id=workspace_id, subject_type=subject.type,
                     subject_id=subject.id, fields=("guardian_name", "guardian_contact"),
                     detail={"method": method})
    return row


def is_under_age(*, workspace_id: uuid.UUID, subject: Subject) -> bool:
    """Whether the age gate applies to this subject (gate on and subject marked under age)."""
    with workspace_scope(workspace_id):
        gate = PrivacySettings.objects.values_list("age_gate_enabled", flat=True).first()
        if gate is False:
            return False
        return SubjectAge.objects.filter(subject_type=subject.type, subject_id=subject.id,
                                         under_age=True).exists()


def has_guardian_consent(*, workspace_id: uuid.UUID, subject: Subject) -> bool:
    with workspace_scope(workspace_id):
        return GuardianConsent.objects.filter(subject_type=subject.type, subject_id=subject.id,
                                              withdrawn_at__isnull=True).exists()


def child_restriction(*, workspace_id: uuid.UUID, subject: Subject, purpose: str) -> str | None:
    """Why a grant of ``purpose`` is refused for this subject, or None if it is allowed."""
    if purpose not in NEEDS_GUARDIAN and purpose not in NEVER_FOR_CHILDREN:
        return None
    if not is_under_age(workspace_id=workspace_id, subject=subject):
        return None
    if purpose in NEVER_FOR_CHILDREN:
        return ("this subject is under the minimum age: their data is never sold or shared "
                "for advertising (DPDP Act s. 9(3))")
    if has_guardian_consent(workspace_id=workspace_id, subject=subject):
        return None
    return (f"this subject is under the minimum age: {purpose} consent needs verifiable "
            "guardian consent recorded first (DPDP Act s. 9(1))")
