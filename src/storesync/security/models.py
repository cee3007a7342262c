"""Keys, the audit log and API tokens."""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel


class KeyringState(models.Model):
    """Singleton row: the fingerprint of the master key this database was encrypted under.

    Lets start-up tell a wrong master key from a right one before anything is written.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    master_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class DataKey(models.Model):
    """A per-workspace data key, stored only wrapped (AES-256-GCM) under the master key.

    ``workspace`` is null for the installation's own key (MFA secrets, system-wide secrets).
    The integer id is written into every ciphertext header, so a value names its key.
    """

    class State(models.TextChoices):
        ACTIVE = "active"
        RETIRING = "retiring"  # a rotation is moving data off it; still decrypts
        RETIRED = "retired"  # no data left under it; key material destroyed

    id = models.AutoField(primary_key=True)
    workspace = models.ForeignKey(
        "core.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    wrapped = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(state="active"),
                name="one_active_data_key_per_workspace",
            )
        ]


class AuditChainHead(models.Model):
    """The last link of one audit chain (a workspace's, or ``system``).

    Keeping the head apart from the events lets verification notice a deleted tail, and gives
    appenders one row to lock so that sequence numbers never fork.

    ``base_*`` is the chain's checkpoint: events up to ``base_seq`` were pruned by retention
    (audit is kept 7 years) after being verified, and the chain now starts after
    ``base_hash``. ``base_mac`` (HMAC with the audit key) stops anyone without the key from
    moving the checkpoint forward to hide deleted events.
    """

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    base_seq = models.BigIntegerField(default=0)
    base_hash = models.CharField(max_length=64, default="0" * 64)
    base_mac = models.CharField(max_length=64, blank=True, default="")


class AuditEvent(models.Model):
    """One append-only, hash-chained audit record. Never updated by the application; deleted
    only by retention, oldest first, behind a verified checkpoint (``AuditChainHead.base_*``)."""

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=48)
    subject_type = models.CharField(max_length=48, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list)
    purpose = models.CharField(max_length=48, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq")]
        indexes = [
            models.Index(fields=["chain", "subject_type", "subject_id"]),
            models.Index(fields=["chain", "occurred_at"]),
        ]


class AuditVerification(models.Model):
    """The outcome of one verification of every audit chain (CLI or the daily job)."""

    id = models.BigAutoField(primary_key=True)
    verified_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    chains = models.PositiveIntegerField()
    events = models.PositiveBigIntegerField()
    problems = models.JSONField(default=list)


class ApiToken(TenantModel):
    """A bearer token bound to one workspace and one role. Only its SHA-256 is stored."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=40)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

