"""Scheduled security jobs."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from storesync.core.logs import get_logger
from storesync.core.tenancy import system_scope
from storesync.security import audit

log = get_logger(__name__)


@db_periodic_task(crontab(hour="3", minute="17"))
def verify_audit_log() -> bool:
    """Daily: verify every audit chain; a broken one is logged as an error and shown in /metrics."""
    with system_scope():
        reports = audit.verify_and_record()
    broken = [r for r in reports if not r.ok]
    for report in broken:
        log.error("audit_chain_broken", chain=report.chain, problem=report.problem)
    return not broken
