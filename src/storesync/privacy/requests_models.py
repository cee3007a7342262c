"""Data-subject requests, their propagation to recipients, restrictions, legal holds and
retention runs (the privacy engine's core records)."""

from __future__ import annotations

from django.db import models

from storesync.core.models import normalise_email
from storesync.core.tenancy import TenantModel
from storesync.security.fields import BlindIndexField, EncryptedField


class RequestKind(models.TextChoices):
    ACCESS = "access"
    PORTABILITY = "portability"
    CORRECTION = "correction"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    DO_NOT_SELL = "do_not_sell"


class Jurisdiction(models.TextChoices):
    GDPR = "gdpr", "EU/UK GDPR"
    CCPA = "ccpa", "California (CCPA/CPRA)"
    DPDP = "dpdp", "India (DPDP Act 2023)"


class RequestStatus(models.TextChoices):
    UNVERIFIED = "unverified"  # waiting for the emailed code
    PENDING = "pending"  # verified, waiting for staff (or running)
    IN_PROGRESS = "in_progress"  # executed locally, propagation not yet confirmed
    COMPLETED = "completed"
    REJECTED = "rejected"


class RightsSettings(TenantModel):
    """A workspace's privacy settings (one row; defaults apply when absent)."""

    default_jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices,
                                            default=Jurisdiction.DPDP)
    inactive_customer_years = models.PositiveSmallIntegerField(default=3)
    abandoned_checkout_days = models.PositiveSmallIntegerField(default=90)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="rights_settings")]


class DataSubjectRequest(TenantModel):
    kind = models.CharField(max_length=12, choices=RequestKind.choices)
    status = models.CharField(max_length=12, choices=RequestStatus.choices,
                              default=RequestStatus.UNVERIFIED)
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices)
    email = EncryptedField(category="user.contact.email", null=True)
    email_bidx = BlindIndexField(source="email", normaliser=normalise_email)
    # Proposed corrections, the requester's message: JSON, encrypted.
    details = EncryptedField(category="user.request.details", null=True)
    source = models.CharField(max_length=20, default="privacy_centre")  # or api, platform
    source_event_id = models.CharField(max_length=200, blank=True)
    connection_id = models.UUIDField(null=True, blank=True)  # a platform request's connection
    scope = models.CharField(max_length=12, default="subject")  # or "connection" (shop/redact)
    customer_ids = models.JSONField(default=list, blank=True)  # matched at verification
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    local_done_at = models.DateTimeField(null=True, blank=True)  # resumption point
    outcome = models.JSONField(default=dict, blank=True)  # counts, reasons; no personal data
    export = EncryptedField(category="user.request.export", null=True)  # base64 ZIP
    export_token_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    export_expires_at = models.DateTimeField(null=True, blank=True)
    export_downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["workspace", "source", "source_event_id"],
            condition=~models.Q(source_event_id=""), name="dsr_platform_event")]
        indexes = [models.Index(fields=["workspace", "status", "due_at"])]

    def data_subject(self) -> tuple[str, str]:
        return "privacy_request", str(self.pk)


class Propagation(TenantModel):
    """One recipient that must hear of an erasure, correction, restriction or the lifting of
    a restriction (GDPR Art. 19); done only once it confirms."""

    class State(models.TextChoices):
        PENDING = "pending"  # due to be sent (again) by the dispatcher
        # Told by a notice (a processor's email): waits for staff to record its answer.
        SENT = "sent"
        # Cannot be sent until a person acts (a processor with no privacy contact on file).
        WAITING = "waiting"
        SUCCEEDED = "succeeded"
        # Gave up after the last attempt, or the recipient refused: shown, can be retried.
        FAILED = "failed"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE,
                                related_name="propagations")
    recipient_type = models.CharField(max_length=20)  # connection | processor
    recipient_id = models.CharField(max_length=100)
    recipient_name = models.CharField(max_length=200, blank=True)
    # erasure | correction | restriction | restriction_lift (one request may carry both of
    # the last two: a restriction is lifted on the request that set it)
    action = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # What the recipient did, in its words, once it confirmed ("email marketing unsubscribed",
    # "recorded as an order note only"): no personal data.
    note = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # the latest notice went out
    # How a processor knows the person when no order reference does (the email or phone it
    # received), captured when the row is planned, before an erasure or correction changes
    # it; cleared once the processor answered (see privacy.processor_notices).
    subject_reference = EncryptedField(category="user.request.recipient_reference", null=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["request", "recipient_type", "recipient_id", "action"],
            name="propagation_recipient_action")]

    def data_subject(self) -> tuple[str, str]:
        return "privacy_request", str(self.request_id)


class SubjectRestriction(TenantModel):
    """Restriction (Art. 18), objection (Art. 21) and do-not-sell (CCPA) flags on a customer."""

    customer_id = models.UUIDField()
    restricted = models.BooleanField(default=False)  # no processing but storage
    objected = models.BooleanField(default=False)  # no marketing or analytics
    do_not_sell = models.BooleanField(default=False)  # no sale/share with third parties
    request = models.ForeignKey(DataSubjectRequest, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")  # the latest
    # The request that set each flag, so that a refusal can say which request it honours and a
    # lift clears only the flag its own request set (see docs/adr/0020).
    restricted_by = models.ForeignKey(DataSubjectRequest, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    objected_by = models.ForeignKey(DataSubjectRequest, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    do_not_sell_by = models.ForeignKey(DataSubjectRequest, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "customer_id"],
                                               name="subject_restriction_customer")]


class LegalHold(TenantModel):
    """A record kept after erasure because the law says so, until ``held_until``."""

    record_type = models.CharField(max_length=40)  # e.g. orders.order
    record_id = models.UUIDField()
    reason = models.CharField(max_length=300)
    fields = models.JSONField(default=list)
    held_until = models.DateField(db_index=True)
    request = models.ForeignKey(DataSubjectRequest, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "record_type", "record_id"],
                                               name="legal_hold_record")]


class RetentionRun(TenantModel):
    """One sweep (dry run or applied) and what it found or did, per target."""

    dry_run = models.BooleanField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    report = models.JSONField(default=list)
