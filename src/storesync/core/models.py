"""Accounts, workspaces (tenants), memberships, roles and invitations."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from storesync.core.ids import uuid7
from storesync.core.tenancy import TenantModel
from storesync.security.fields import BlindIndexField, EncryptedField


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("an email is required")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. Workspaces are joined through ``Membership``.

    Staff accounts' email is their login name, so it stays searchable; it is declared in the
    data map as personal data of staff (legal basis: contract), not encrypted.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.display_name or self.email


class Workspace(models.Model):
    """A tenant: one seller's business. Every tenant row carries its id."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="IN")
    currency = models.CharField(max_length=3, default="INR")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class Role(TenantModel):
    """A custom role: a named set of permissions, in addition to the built-in roles."""

    slug = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    permissions = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="role_slug")]


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_user")
        ]


class Invitation(TenantModel):
    """An invitation to join a workspace with a role; the link's secret is stored hashed."""

    email = EncryptedField(category="user.contact.email")
    email_bidx = BlindIndexField(source="email", normaliser=normalise_email)
    role = models.CharField(max_length=40)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def data_subject(self) -> tuple[str, str]:
        return "invitation", str(self.pk)


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(TenantModel):
    """A long-running piece of work (an import, a push to a channel) that people can watch.

    ``kind`` names what runs (``storesync.core.jobs.RUNNERS``); ``params`` is what it needs to run
    again on retry; ``result`` is a short JSON summary for the UI and API, and ``result_file`` an
    optional file under the data directory (a full error report, an export) relative to it.
    """

    kind = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    stage = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_file = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by_type = models.CharField(max_length=16)
    created_by_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "id"]),
                   models.Index(fields=["workspace", "state", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.state}"
