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
