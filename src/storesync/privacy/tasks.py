"""Background jobs of the privacy engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from huey.contrib.djhuey import db_task

from storesync.core.models import Membership, User, Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.privacy.governance_models import PolicyAcceptance, PolicyMailing, PolicyVersion
from storesync.security import audit
from storesync.security.access import personal_data_access

MAIL_BATCH = 100  # messages per SMTP connection; one PolicyMailing insert per batch


def _batches(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _recipients(workspace_id: uuid.UUID, policy: PolicyVersion) -> list[tuple[str, str]]:
    """(type, id) of members, and of customers who accepted an older version, not yet mailed."""
    members = [("user", str(u)) for u in Membership.objects.values_list("user_id", flat=True)]
    older = PolicyVersion.objects.filter(effective_at__lt=policy.effective_at).exclude(
        id=policy.id)
    accepted_this = set(PolicyAcceptance.objects.filter(policy=policy, subject_type="customer")
                        .values_list("subject_id", flat=True))
    customers = sorted({sid for sid in PolicyAcceptance.objects.filter(
        policy__in=older, subject_type="customer").values_list("subject_id", flat=True)
        if sid not in accepted_this})
    mailed = set(PolicyMailing.objects.filter(policy=policy)
                 .values_list("recipient_type", "recipient_id"))
    return [r for r in members + [("customer", c) for c in customers] if r not in mailed]


def _addresses(workspace_id: uuid.UUID, batch: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    users = dict(User.objects.filter(id__in=[i for t, i in batch if t == "user"])
                 .values_list("id", "email"))
    out = {("user", str(k)): v for k, v in users.items()}
    customer_ids = [i for t, i in batch if t == "customer"]
    if customer_ids:
        with personal_data_access(actor=audit.Actor.system("mailer"), workspace_id=workspace_id,
                                  purpose="policy_change_notice"):
            for c in Customer.objects.filter(id__in=customer_ids):
                if c.email:
                    out[("customer", str(c.id))] = c.email
    return out


def _message(workspace: Workspace, policy: PolicyVersion, to: str) -> EmailMessage:
    page = f"{settings.CONFIG.base_url}/privacy/{workspace.slug}/policy"
    body = (f"{workspace.name} has published a new version of its privacy policy "
            f"({policy.version}), effective {policy.effective_at:%Y-%m-%d %H:%M} UTC.\n\n"
            f"What changed:\n{policy.summary}\n\nRead it in full: {policy.url or page}\n"
            f"All versions: {page}\n")
    return EmailMessage(subject=f"{workspace.name}: our privacy policy has changed",
                        body=body, to=[to])


@db_task(retries=5, retry_delay=60)
def send_policy_change_notices(workspace_id: str, policy_id: str) -> int:
    """Mail the change notice in batches; a retry resumes after the last batch sent."""
    wid = uuid.UUID(workspace_id)
    workspace = Workspace.objects.get(id=wid)
    sent = 0
    with workspace_scope(wid):
        policy = PolicyVersion.objects.filter(id=policy_id).first()
        if policy is None:
            return 0
        for batch in _batches(_recipients(wid, policy), MAIL_BATCH):
            addresses = _addresses(wid, batch)
            messages = [_message(workspace, policy, addresses[r]) for r in batch
                        if r in addresses]
            with get_connection() as connection:
                connection.send_messages(messages)
            with transaction.atomic():
                PolicyMailing.objects.bulk_create(
                    [PolicyMailing(workspace_id=wid, policy=policy, recipient_type=t,
                                   recipient_id=i) for t, i in batch], ignore_conflicts=True)
            sent += len(messages)
        audit.record(action=audit.Action.POLICY_NOTICES_SENT, actor=audit.Actor.system("mailer"),
                     workspace_id=wid, subject_type="policy", subject_id=policy.id,
                     detail={"sent": sent})
    return sent
