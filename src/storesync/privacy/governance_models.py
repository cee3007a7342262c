"""Privacy-policy versions and their acceptances, the processors register, and breaches."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from storesync.core.tenancy import TenantModel

# GDPR Art. 33(1) and DPDP Rules 2025, rule 7(2)(b): the authority (the Data Protection Board
# of India) is informed within 72 hours of becoming aware of a personal-data breach.
AUTHORITY_DEADLINE = timedelta(hours=72)


class PolicyVersion(TenantModel):
    """One published version of the seller's privacy policy; never edited once published."""

    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200, default="Privacy policy")
    body = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    summary = models.TextField()
    effective_at = models.DateTimeField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "version"],
                                               name="policy_version_unique")]
        indexes = [models.Index(fields=["workspace", "effective_at"], name="policy_effective")]


class PolicyAcceptance(TenantModel):
    """A subject (customer, visitor or staff user) accepted a policy version."""

    policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=16)  # customer, visitor, user
    subject_id = models.CharField(max_length=64)
    source = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "subject_type", "subject_id"],
                                               name="policy_acceptance_unique")]
        indexes = [models.Index(fields=["workspace", "subject_type", "subject_id"],
                                name="policy_acceptance_subject")]


class PolicyStaffNotice(TenantModel):
    """The in-app banner telling a member that the policy changed, until acknowledged."""

    policy = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "user"],
                                               name="policy_staff_notice_unique")]


class PolicyMailing(TenantModel):
    """One change notice mailed: retries of the job skip recipients already mailed."""

    policy = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")
    recipient_type = models.CharField(max_length=16)  # customer, user
    recipient_id = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "recipient_type", "recipient_id"],
                                               name="policy_mailing_unique")]


class ProcessorKind(models.TextChoices):
    COURIER = "courier"
    PAYMENT_PROCESSOR = "payment_processor"
    HOSTING = "hosting"
    CHANNEL = "channel"
    EMAIL = "email"
    OTHER = "other"


class TransferSafeguard(models.TextChoices):
    DOMESTIC = "domestic"  # same country as the workspace: no cross-border transfer
    ADEQUACY = "adequacy"
    SCCS = "sccs"
    NONE = "none"


class Processor(TenantModel):
    """A recipient of personal data and the data categories it may receive (its share profile)."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ProcessorKind.choices)
    categories = models.JSONField(default=list)
    country = models.CharField(max_length=2)
    safeguard = models.CharField(max_length=10, choices=TransferSafeguard.choices)
    contract_reference = models.CharField(max_length=200, blank=True)
    # Where the processor's privacy team (or DPO) takes notices of erasures, corrections and
    # restrictions (GDPR Art. 19, 28(3)(e)); empty: those notices wait for one.
    privacy_email = models.EmailField(max_length=254, blank=True)
    builtin = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"],
                                               name="processor_name_unique")]


class BreachStatus(models.TextChoices):
    OPEN = "open"
    NOTIFIED = "notified"  # the authority and the subjects were told
    CLOSED = "closed"


class Breach(TenantModel):
    """A personal-data breach: what, when, whom it touched, and the notices it requires."""

    title = models.CharField(max_length=200)
    description = models.TextField()
    categories = models.JSONField(default=list)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    discovered_at = models.DateTimeField()
    contact = models.CharField(max_length=300)
    likely_consequences = models.TextField(blank=True)
    measures = models.TextField(blank=True)
    affected_count = models.PositiveIntegerField(default=0)
    authority_notice = models.TextField(blank=True)
    subject_notice = models.TextField(blank=True)
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    subjects_notified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=BreachStatus.choices,
                              default=BreachStatus.OPEN)
    recorded_at = models.DateTimeField(default=timezone.now)

    @property
    def authority_deadline(self) -> datetime:
        """72 hours after the breach became known, in UTC."""
        return self.discovered_at + AUTHORITY_DEADLINE

    def overdue(self, now: datetime | None = None) -> bool:
        return self.authority_notified_at is None and (now or timezone.now()) > (
            self.authority_deadline)


class BreachSubject(TenantModel):
    """A data subject whose data of the breached categories was stored or read in the window."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="subjects")
    subject_type = models.CharField(max_length=16)
    subject_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=10)  # stored, accessed

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "subject_type", "subject_id"],
                                               name="breach_subject_unique")]
