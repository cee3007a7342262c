from __future__ import annotations

from django.test import Client

from storesync.security import audit
from storesync.security.models import AuditEvent, AuditVerification
from storesync.security.tasks import verify_audit_log


def _metric(name: str) -> float:
    for line in Client().get("/metrics").content.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_daily_verification_is_recorded_and_exported(workspace):
    assert _metric("storesync_audit_chain_ok") == -1  # never verified yet
    assert verify_audit_log.call_local() is True
    assert _metric("storesync_audit_chain_ok") == 1
    assert _metric("storesync_audit_last_verified_timestamp_seconds") > 0

    audit.record(action=audit.Action.CUSTOMER_CREATED, actor=audit.Actor.system("t"),
                 workspace_id=workspace.workspace.id)
    AuditEvent.objects.filter(chain=str(workspace.workspace.id), seq=1).update(action="forged")
    assert verify_audit_log.call_local() is False
    assert _metric("storesync_audit_chain_ok") == 0
    last = AuditVerification.objects.order_by("-verified_at").first()
    assert last.problems[0]["chain"] == str(workspace.workspace.id)
    assert "event #1" in last.problems[0]["problem"]
