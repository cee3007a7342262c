"""Idempotency records for create endpoints (``Idempotency-Key`` header)."""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel
from storesync.security.fields import EncryptedField


class IdempotencyKey(TenantModel):
    """The first response to a create request, replayed for a retry with the same key.

    The stored body can echo personal data, so it is encrypted; records expire after a day.
    """

    actor = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body hash
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # null: still running
    body = EncryptedField(category="system.idempotency", personal=False, null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "actor", "key"],
                                               name="idempotency_key")]
