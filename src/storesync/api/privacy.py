"""``/api/v1/privacy``: consent ledger, children, policy versions, processors, breaches.

Any consent request carrying ``Sec-GPC: 1`` records, for its subject, a withdrawal of
``sale_share`` (CCPA regulations, 11 CCR § 7025: GPC is an opt-out of sale and sharing).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.schemas import Strict
from storesync.core.errors import ValidationError
from storesync.core.permissions import Perm
from storesync.privacy import breaches, children, consent, policies, processors
from storesync.privacy.consent_models import ConsentEntry, ConsentPurpose
from storesync.privacy.governance_models import Breach, PolicyVersion, Processor
from storesync.privacy.subjects import Subject, subject_parse

router = Router(tags=["privacy"])


def gpc_requested(request: HttpRequest) -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


def _evidence(request: HttpRequest, extra: dict[str, Any]) -> dict[str, Any]:
    ua = consent.user_agent_hash(request.headers.get("User-Agent", ""))
    return {**extra, **({"user_agent_sha256": ua} if ua else {})}


class ConsentIn(Strict):
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    purpose: str = Field(max_length=40)
    state: str = Field("granted", max_length=12)
    source: str = Field("api", max_length=20)
    policy_version: str = Field("", max_length=40)
    evidence: dict[str, str | int | bool] = Field(default_factory=dict)


class WithdrawIn(Strict):
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    purpose: str = Field(max_length=40)
    source: str = Field("api", max_length=20)


class ConsentOut(Schema):
    id: uuid.UUID
    subject_type: str
    subject_id: str
    purpose: str
    state: str
    source: str
    policy_version: str
    evidence: dict[str, Any]
    recorded_at: datetime


class SubjectConsentOut(Schema):
    subject_type: str
    subject_id: str
    allows: dict[str, bool]
    reasons: dict[str, str] = Field(
        description="why each purpose not allowed is refused: no decision, a withdrawal, the "
                    "age gate, or the restriction/objection/do-not-sell request that binds it")
    current: dict[str, ConsentOut]
    history: list[ConsentOut]
    gpc_recorded: bool = False


def _subject(who_ws: uuid.UUID, subject_type: str, subject_id: str) -> Subject:
    return subject_parse(workspace_id=who_ws, subject_type=subject_type, subject_id=subject_id)


def _honour_gpc(request: HttpRequest, ws: uuid.UUID, subject: Subject, actor: Any) -> bool:
    if not gpc_requested(request):
        return False
    consent.consent_record_gpc(workspace_id=ws, subject=subject, actor=actor,
                               evidence=_evidence(request, {}))
    return True


@router.post("/consents", response={201: ConsentOut}, summary="Record a consent decision")
def record_consent(request: HttpRequest, payload: ConsentIn) -> Status:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    subject = _subject(who.workspace_id, payload.subject_type, payload.subject_id)
    entry = consent.consent_record(
        workspace_id=who.workspace_id, subject=subject, purpose=payload.purpose,
        state=payload.state, source=payload.source, actor=who.actor,
        policy_version=payload.policy_version, evidence=_evidence(request, payload.evidence))
    _honour_gpc(request, who.workspace_id, subject, who.actor)
    return Status(201, entry)


@router.post("/consents/withdraw", response={201: ConsentOut},
             summary="Withdraw consent for one purpose")
def withdraw_consent(request: HttpRequest, payload: WithdrawIn) -> Status:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    subject = _subject(who.workspace_id, payload.subject_type, payload.subject_id)
    entry = consent.consent_withdraw(workspace_id=who.workspace_id, subject=subject,
                                     purpose=payload.purpose, source=payload.source,
                                     actor=who.actor, evidence=_evidence(request, {}))
    _honour_gpc(request, who.workspace_id, subject, who.actor)
    return Status(201, entry)


@router.get("/subjects/{subject_type}/{subject_id}/consent", response=SubjectConsentOut,
            summary="A subject's current consent per purpose and its full history")
def subject_consent(request: HttpRequest, subject_type: str, subject_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS)
    ws = who.workspace_id
    subject = _subject(ws, subject_type, subject_id)
    gpc = _honour_gpc(request, ws, subject, who.actor)
    current: dict[str, ConsentEntry] = consent.consent_current(workspace_id=ws, subject=subject)
    summary = consent.consent_summary(workspace_id=ws, subject=subject, current=current)
    return {"subject_type": subject.type, "subject_id": subject.id, "current": current,
            "allows": {p: a.allowed for p, a in summary.items()},
            "reasons": {p: a.reason for p, a in summary.items() if not a.allowed},
            "history": consent.consent_history(workspace_id=ws, subject=subject),
            "gpc_recorded": gpc}


class AudienceOut(Schema):
    purpose: str
    subject_type: str
    subject_ids: list[str]
    excluded: dict[str, int] = Field(
        description="subjects whose latest decision is a grant but who are left out: "
                    "`restriction` (a restriction, objection or do-not-sell request covers "
                    "the purpose) and `under_age` (the age gate)")


@router.get("/consents/allowed", response=AudienceOut,
            summary="Every customer a purpose is allowed for now (for marketing exports)")
def allowed_subjects(request: HttpRequest, purpose: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS)
    if purpose not in ConsentPurpose.values:
        raise ValidationError(f"unknown purpose {purpose!r}", field="purpose")
    audience = consent.consent_audience(workspace_id=who.workspace_id, purpose=purpose)
    return {"purpose": purpose, "subject_type": "customer",
            "subject_ids": sorted(audience.subject_ids), "excluded": audience.excluded}


class UnsubscribeOut(Schema):
    url: str
    headers: dict[str, str]


@router.get("/subjects/customer/{customer_id}/unsubscribe-link", response=UnsubscribeOut,
            summary="The signed one-click unsubscribe link and headers for a marketing email")
def unsubscribe_link(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS)
    subject = _subject(who.workspace_id, "customer", customer_id)
    headers = consent.unsubscribe_headers(base_url=settings.CONFIG.base_url,
                                          workspace_id=who.workspace_id,
                                          customer_id=uuid.UUID(subject.id))
    return {"url": headers["List-Unsubscribe"].strip("<>"), "headers": headers}


class AgeIn(Strict):
    under_age: bool


class GuardianIn(Strict):
    guardian_name: str = Field(max_length=200)
    guardian_contact: str = Field(max_length=254)
    method: str = Field(max_length=30)
    verified_at: datetime


@router.put("/subjects/{subject_type}/{subject_id}/age", response={200: dict},
            summary="Mark a subject under or over the workspace's minimum age")
def set_age(request: HttpRequest, subject_type: str, subject_id: str,
            payload: AgeIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    subject = _subject(who.workspace_id, subject_type, subject_id)
    row = children.subject_age_set(workspace_id=who.workspace_id, subject=subject,
                                   under_age=payload.under_age, actor=who.actor)
    return {"subject_type": subject.type, "subject_id": subject.id,
            "under_age": row.under_age, "recorded_at": row.recorded_at}


@router.post("/subjects/{subject_type}/{subject_id}/guardian-consent", response={201: dict},
             summary="Record verifiable guardian consent for a child")
def add_guardian_consent(request: HttpRequest, subject_type: str, subject_id: str,
                         payload: GuardianIn) -> Status:
    who = require(request, Perm.MANAGE_PRIVACY)
    subject = _subject(who.workspace_id, subject_type, subject_id)
    row = children.guardian_consent_record(workspace_id=who.workspace_id, subject=subject,
                                           actor=who.actor, **payload.model_dump())
    # The guardian's name and contact are not echoed: they were just sent, and reading them
    # back would be an audited read of personal data for no purpose.
    return Status(201, {"id": str(row.id), "method": row.method,
                        "verified_at": row.verified_at, "recorded_at": row.recorded_at})


class SettingsOut(Schema):
    public_key: str
    storefront_origins: list[str]
    banner_version: str
    age_gate_enabled: bool
    minimum_age: int


class SettingsPatch(Strict):
    storefront_origins: list[str] | None = Field(None, max_length=20)
    banner_version: str | None = Field(None, max_length=40)
    age_gate_enabled: bool | None = None
    minimum_age: int | None = None
    rotate_public_key: bool | None = None


@router.get("/settings", response=SettingsOut, summary="Storefront privacy settings")
def get_settings(request: HttpRequest) -> Any:
    who = require(request, Perm.MANAGE_PRIVACY)
    return consent.privacy_settings_ensure(workspace_id=who.workspace_id)


@router.patch("/settings", response=SettingsOut, summary="Change storefront privacy settings")
def patch_settings(request: HttpRequest, payload: SettingsPatch) -> Any:
    who = require(request, Perm.MANAGE_PRIVACY)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return consent.privacy_settings_update(workspace_id=who.workspace_id, changes=changes,
                                           actor=who.actor)


class PolicyIn(Strict):
    version: str = Field(max_length=40)
    title: str = Field("Privacy policy", max_length=200)
    body: str = Field("", max_length=200_000)
    url: str = Field("", max_length=500)
    summary: str = Field(max_length=5000)
    effective_at: datetime


class PolicyOut(Schema):
    id: uuid.UUID
    version: str
    title: str
    body: str
    url: str
    summary: str
    effective_at: datetime
    published_at: datetime


class AcceptanceIn(Strict):
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    source: str = Field("api", max_length=20)


@router.get("/policies", response=list[PolicyOut], summary="Published policy versions")
def list_policies(request: HttpRequest) -> list[PolicyVersion]:
    who = require(request, Perm.MANAGE_PRIVACY)
    return policies.policy_list(workspace_id=who.workspace_id)


@router.post("/policies", response={201: PolicyOut},
             summary="Publish a policy version (members and earlier acceptors are notified)")
def publish_policy(request: HttpRequest, payload: PolicyIn) -> Status:
    who = require(request, Perm.MANAGE_PRIVACY)
    return Status(201, policies.policy_publish(workspace_id=who.workspace_id, actor=who.actor,
                                               **payload.model_dump()))


@router.post("/policies/{policy_id}/acceptances", response={201: dict},
             summary="Record that a subject accepted a policy version")
def accept_policy(request: HttpRequest, policy_id: str, payload: AcceptanceIn) -> Status:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    policy = policies.policy_get(workspace_id=who.workspace_id, policy_id=policy_id)
    subject = _subject(who.workspace_id, payload.subject_type, payload.subject_id)
    row = policies.policy_accept(workspace_id=who.workspace_id, policy_id=policy.id,
                                 subject=subject, source=payload.source, actor=who.actor)
    return Status(201, {"version": policy.version, "subject_type": row.subject_type,
                        "subject_id": row.subject_id, "accepted_at": row.accepted_at,
                        "source": row.source})


class ProcessorIn(Strict):
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20)
    categories: list[str] = Field(max_length=20)
    country: str = Field(max_length=2)
    safeguard: str = Field(max_length=10)
    contract_reference: str = Field("", max_length=200)
    privacy_email: str = Field("", max_length=254, description=(
        "where notices of erasures, corrections and restrictions go (GDPR Art. 19); "
        "without one they wait on the request's page"))


class ProcessorPatch(Strict):
    name: str | None = Field(None, max_length=120)
    kind: str | None = Field(None, max_length=20)
    categories: list[str] | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=2)
    safeguard: str | None = Field(None, max_length=10)
    contract_reference: str | None = Field(None, max_length=200)
    privacy_email: str | None = Field(None, max_length=254, description=(
        "\"\" removes it; adding one sends the notices that waited for it"))
    active: bool | None = None


class ProcessorOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    categories: list[str]
    country: str
    safeguard: str
    contract_reference: str
    privacy_email: str
    builtin: bool
    active: bool


class ShareIn(Strict):
    record_type: str = Field(max_length=10)
    record_id: str = Field(max_length=40)


@router.get("/processors", response=list[ProcessorOut], summary="The processors register")
def list_processors(request: HttpRequest) -> list[Processor]:
    who = require(request, Perm.MANAGE_PRIVACY)
    return processors.processor_list(workspace_id=who.workspace_id)


@router.post("/processors", response={201: ProcessorOut}, summary="Register a processor")
def create_processor(request: HttpRequest, payload: ProcessorIn) -> Status:
    who = require(request, Perm.MANAGE_PRIVACY)
    return Status(201, processors.processor_create(workspace_id=who.workspace_id,
                                                   data=payload.model_dump(), actor=who.actor))


@router.patch("/processors/{processor_id}", response=ProcessorOut, summary="Change a processor")
def update_processor(request: HttpRequest, processor_id: str, payload: ProcessorPatch) -> Any:
    who = require(request, Perm.MANAGE_PRIVACY)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return processors.processor_update(workspace_id=who.workspace_id, processor_id=processor_id,
                                       changes=changes, actor=who.actor)


@router.post("/processors/{processor_id}/payload", response=dict,
             summary="The fields of a record this processor may receive (audited)")
def processor_payload(request: HttpRequest, processor_id: str, payload: ShareIn) -> Any:
    who = require(request, Perm.VIEW_PERSONAL_DATA, Perm.MANAGE_ORDERS)
    processor = processors.processor_get(workspace_id=who.workspace_id,
                                         processor_id=processor_id)
    record = processors.share_record_get(workspace_id=who.workspace_id,
                                         record_type=payload.record_type,
                                         record_id=payload.record_id)
    return processors.share_payload(processor=processor, record=record, actor=who.actor)


class BreachIn(Strict):
    title: str = Field(max_length=200)
    description: str = Field(max_length=20000)
    categories: list[str] = Field(max_length=20)
    window_start: datetime
    window_end: datetime
    discovered_at: datetime
    contact: str = Field(max_length=300)
    likely_consequences: str = Field("", max_length=5000)
    measures: str = Field("", max_length=5000)


class BreachOut(Schema):
    id: uuid.UUID
    title: str
    description: str
    categories: list[str]
    window_start: datetime
    window_end: datetime
    discovered_at: datetime
    authority_deadline: datetime
    overdue: bool
    affected_count: int
    status: str
    authority_notice: str
    subject_notice: str
    authority_notified_at: datetime | None
    subjects_notified_at: datetime | None

    @staticmethod
    def resolve_overdue(obj: Breach) -> bool:
        return obj.overdue()


class NoticeIn(Strict):
    text: str = Field(max_length=20000)


class SentIn(Strict):
    sent_at: datetime | None = None


@router.get("/breaches", response=list[BreachOut], summary="Recorded breaches")
def list_breaches(request: HttpRequest) -> list[Breach]:
    who = require(request, Perm.MANAGE_PRIVACY)
    return breaches.breach_list(workspace_id=who.workspace_id)


@router.post("/breaches", response={201: BreachOut},
             summary="Record a breach: lists affected subjects, starts the 72-hour clock")
def record_breach(request: HttpRequest, payload: BreachIn) -> Status:
    who = require(request, Perm.MANAGE_PRIVACY)
    return Status(201, breaches.breach_record(workspace_id=who.workspace_id,
                                              data=payload.model_dump(), actor=who.actor))


@router.get("/breaches/{breach_id}", response=BreachOut, summary="A breach")
def get_breach(request: HttpRequest, breach_id: str) -> Breach:
    who = require(request, Perm.MANAGE_PRIVACY)
    return breaches.breach_get(workspace_id=who.workspace_id, breach_id=breach_id)


@router.put("/breaches/{breach_id}/notices/{kind}", response=BreachOut,
            summary="Edit the draft notice to the authority or to the subjects")
def edit_notice(request: HttpRequest, breach_id: str, kind: str, payload: NoticeIn) -> Breach:
    who = require(request, Perm.MANAGE_PRIVACY)
    return breaches.breach_notice_edit(workspace_id=who.workspace_id, breach_id=breach_id,
                                       kind=kind, text=payload.text, actor=who.actor)


@router.post("/breaches/{breach_id}/notices/{kind}/sent", response=BreachOut,
             summary="Mark a notice as sent")
def mark_notice_sent(request: HttpRequest, breach_id: str, kind: str,
                     payload: SentIn | None = None) -> Breach:
    who = require(request, Perm.MANAGE_PRIVACY)
    return breaches.breach_notice_mark_sent(workspace_id=who.workspace_id, breach_id=breach_id,
                                            kind=kind, actor=who.actor,
                                            sent_at=payload.sent_at if payload else None)
