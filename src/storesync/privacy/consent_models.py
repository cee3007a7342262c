"""Consent: an append-only ledger per data subject and purpose, the workspace's storefront
settings (public key, allowed origins, age gate) and the age and guardian records of children.

The ledger is never updated in place: the current state of a purpose is its latest entry, so
the history a regulator may ask for ("when did this person agree, to which policy, through what
banner?") is the data itself, not a log kept beside it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from storesync.core.tenancy import TenantModel
from storesync.security.fields import EncryptedField


class ConsentPurpose(models.TextChoices):
    NECESSARY = "necessary"
    ANALYTICS = "analytics"
    PERSONALISATION = "personalisation"
    MARKETING = "marketing"
    SALE_SHARE = "sale_share"


class ConsentState(models.TextChoices):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentSource(models.TextChoices):
    STOREFRONT_BANNER = "storefront_banner"
    CHECKOUT = "checkout"
    API = "api"
    STAFF = "staff"
    GPC_SIGNAL = "gpc_signal"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    CHANNEL_IMPORT = "channel_import"


class SubjectType(models.TextChoices):
    CUSTOMER = "customer"
    VISITOR = "visitor"  # an anonymous storefront visitor, by the banner's random id


class AppendOnlyError(RuntimeError):
    """A ledger row was about to be changed or deleted: a programming error."""


class ConsentEntry(TenantModel):
    """One decision: ``subject`` granted or withdrew ``purpose`` at ``recorded_at``."""

    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64)
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    state = models.CharField(max_length=10, choices=ConsentState.choices)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    policy_version = models.CharField(max_length=40, blank=True)
    # What the person saw and how the decision reached us: banner text version, a hash of the
    # user agent, the GPC flag. Never the raw IP address (see docs/adr/0016).
    evidence = models.JSONField(default=dict, blank=True)
    actor_type = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "subject_type", "subject_id", "recorded_at"],
                         name="consent_subject_time"),
            models.Index(fields=["workspace", "purpose", "recorded_at"], name="consent_purpose"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("consent entries are append-only; record a new entry")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("consent entries are append-only")


class PrivacySettings(TenantModel):
    """Per-workspace privacy settings for the storefront: its public key, allowed origins,
    the consent banner's text version and the age gate."""

    public_key = models.CharField(max_length=40, unique=True)
    storefront_origins = models.JSONField(default=list, blank=True)
    banner_version = models.CharField(max_length=40, default="1")
    age_gate_enabled = models.BooleanField(default=True)
    minimum_age = models.PositiveSmallIntegerField(default=18)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="privacy_settings_ws")]


class SubjectAge(TenantModel):
    """Whether a subject is below the workspace's minimum age (one row per subject)."""

    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64)
    under_age = models.BooleanField()
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "subject_type", "subject_id"],
                                               name="subject_age_unique")]


class GuardianMethod(models.TextChoices):
    """How the guardian's identity and age were verified (DPDP Rules 2025, rule 10)."""

    EXISTING_ADULT_ACCOUNT = "existing_adult_account"
    DIGILOCKER_TOKEN = "digilocker_token"
    GOVERNMENT_ID = "government_id"
    SIGNED_FORM = "signed_form"


class GuardianConsent(TenantModel):
    """Verifiable consent of a parent or lawful guardian for a child's processing."""

    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64)
    guardian_name = EncryptedField(category="user.name")
    guardian_contact = EncryptedField(category="user.contact")
    method = models.CharField(max_length=30, choices=GuardianMethod.choices)
    verified_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "subject_type", "subject_id"],
                                name="guardian_subject")]

    def data_subject(self) -> tuple[str, str]:
        # The guardian's details are read on the child's behalf: audit them under the child.
        return self.subject_type, self.subject_id
