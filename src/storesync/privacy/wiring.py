"""Where the privacy engine's parts meet: consents appear in every access export, the
processors a subject's data was shared with hear of its erasure, correction, restriction and
the lifting of a restriction (an email to their privacy contact), and every
marketing consent stored on a customer (at creation, by import, by a channel, by a later
change) is written to the consent ledger.

Registered once, from ``PrivacyConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from storesync.core.tenancy import workspace_scope
from storesync.customers.signals import MarketingConsentGiven, marketing_consent_given
from storesync.privacy import consent, export, processor_notices, propagation
from storesync.privacy.consent_models import ConsentEntry, SubjectType
from storesync.privacy.governance_models import Processor
from storesync.privacy.subject_data import Subject


def consents_section(subject: Subject) -> list[dict[str, Any]]:
    """Every consent decision of the subject's customer records, oldest first."""
    ids = [str(customer_id) for customer_id in subject.customer_ids]
    with workspace_scope(subject.workspace_id):
        rows = ConsentEntry.objects.filter(subject_type=SubjectType.CUSTOMER,
                                           subject_id__in=ids).order_by("recorded_at", "id")
        return [{"customer_id": e.subject_id, "purpose": e.purpose, "state": e.state,
                 "source": e.source, "policy_version": e.policy_version,
                 "recorded_at": e.recorded_at.isoformat()} for e in rows]


def processor_recipients(subject: Subject) -> list[tuple[str, str, str]]:
    """The processors that received this subject's data: every ``share_payload`` call is an
    audit event naming the processor, so the audit log is the record of who got what."""
    processor_ids = set(processor_notices.processor_shares(
        workspace_id=subject.workspace_id, customer_ids=subject.customer_ids))
    if not processor_ids:
        return []
    with workspace_scope(subject.workspace_id):
        processors = Processor.objects.filter(id__in=processor_ids).values_list("id", "name")
        return [("processor", str(pid), name) for pid, name in processors]


def record_marketing_consents(sender: Any, *, workspace_id: Any, actor: Any,
                              given: list[MarketingConsentGiven], **kwargs: Any) -> None:
    """``customers.signals.marketing_consent_given`` receiver: the ledger entries, in the
    transaction that stored the consents."""
    consent.marketing_consents_record(workspace_id=workspace_id, actor=actor, given=given)


def install() -> None:
    export.register_export_section("consents", consents_section)
    propagation.register_recipients("processors", processor_recipients)
    propagation.register_planned("processor_references", processor_notices.references_capture)
    for action, signal in propagation.SIGNALS.items():
        signal.connect(processor_notices.on_propagation_signal,
                       dispatch_uid=f"storesync_privacy_processor_notice_{action}")
    marketing_consent_given.connect(record_marketing_consents,
                                    dispatch_uid="storesync_privacy_marketing_consent_ledger")
