"""Personal-data breaches: record, find the affected subjects, track the deadline, draft the
notices.

Deadlines. GDPR Art. 33(1): notify the supervisory authority "without undue delay and, where
feasible, not later than 72 hours after having become aware of it". DPDP Rules 2025, rule 7:
intimate each affected Data Principal without delay (7(1)) and the Data Protection Board
without delay and, with the detailed report, "within seventy-two hours of becoming aware of the
same, or within such longer period as the Board may allow on a request made in writing"
(7(2)(b)). storesync starts the clock at ``discovered_at`` and shows the deadline in UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from storesync.core.errors import NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import TenantModel, workspace_scope
from storesync.privacy.governance_models import Breach, BreachStatus, BreachSubject
from storesync.privacy.processors import CATEGORIES
from storesync.security import audit
from storesync.security.access import data_subject
from storesync.security.fields import encrypted_fields
from storesync.security.models import AuditEvent

NOTICE_KINDS = ("authority", "subjects")
BREACH_CATEGORIES = (*CATEGORIES, "user.contact")


def _matches(category: str, wanted: Iterable[str]) -> bool:
    return any(category == w or category.startswith(w + ".") for w in wanted)


def _personal_models(categories: list[str]) -> list[tuple[type[models.Model], list[str]]]:
    """Tenant models holding personal fields of the breached categories, with those fields."""
    found: list[tuple[type[models.Model], list[str]]] = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        names = [f.name for f in encrypted_fields(model)
                 if getattr(f, "personal", True) and _matches(f.category, categories)]
        if names:
            found.append((model, names))
    return found


def _stored(categories: list[str], window_end: datetime) -> dict[tuple[str, str], str]:
    """Subjects whose data of these categories existed by the end of the window."""
    out: dict[tuple[str, str], str] = {}
    for model, _names in _personal_models(categories):
        rows = model._default_manager.all()
        if any(f.name == "created_at" for f in model._meta.get_fields()):
            rows = rows.filter(created_at__lte=window_end)
        for row in rows.iterator(chunk_size=2000):
            out.setdefault(data_subject(row), "stored")
    return out


def _accessed(workspace_id: uuid.UUID, categories: list[str], start: datetime,
              end: datetime) -> set[tuple[str, str]]:
    """Subjects whose fields of these categories were read (personal_data.read) in the window."""
    field_categories = {f"{model._meta.model_name}.{f.name}": f.category
                        for model, _ in _personal_models(categories)
                        for f in encrypted_fields(model)}
    events = AuditEvent.objects.filter(chain=str(workspace_id),
                                       action=audit.Action.PERSONAL_DATA_READ,
                                       occurred_at__gte=start, occurred_at__lte=end)
    out = set()
    for subject_type, subject_id, fields in events.values_list(
            "subject_type", "subject_id", "fields").iterator(chunk_size=2000):
        if any(_matches(field_categories.get(f, ""), categories) for f in fields):
            out.add((subject_type, subject_id))
    return out


def _validate(data: Mapping[str, Any]) -> dict[str, Any]:
    for required in ("title", "description", "categories", "window_start", "window_end",
                     "discovered_at", "contact"):
        if not data.get(required):
            raise ValidationError("required", field=required)
    categories = list(data["categories"])
    unknown = [c for c in categories if c not in BREACH_CATEGORIES]
    if unknown:
        raise ValidationError(f"unknown data category {unknown[0]!r}", field="categories")
    for name in ("window_start", "window_end", "discovered_at"):
        if timezone.is_naive(data[name]):
            raise ValidationError("a time with a UTC offset", field=name)
    if data["window_end"] < data["window_start"]:
        raise ValidationError("the window ends before it starts", field="window_end")
    if data["discovered_at"] > timezone.now():
        raise ValidationError("discovery cannot be in the future", field="discovered_at")
    if len(str(data["title"])) > 200 or len(str(data["contact"])) > 300:
        raise ValidationError("too long", field="title" if len(str(data["title"])) > 200
                              else "contact")
    # Stored and shown in UTC: the 72-hour deadline is then unambiguous across time zones.
    return {"title": str(data["title"]).strip(), "description": str(data["description"]).strip(),
            "categories": sorted(set(categories)),
            "window_start": data["window_start"].astimezone(UTC),
            "window_end": data["window_end"].astimezone(UTC),
            "discovered_at": data["discovered_at"].astimezone(UTC),
            "contact": str(data["contact"]).strip(),
            "likely_consequences": str(data.get("likely_consequences") or "").strip(),
            "measures": str(data.get("measures") or "").strip()}


def breach_record(*, workspace_id: uuid.UUID, data: Mapping[str, Any],
                  actor: audit.Actor) -> Breach:
    """Record a breach, list its affected subjects and draft both notices, in one transaction."""
    clean = _validate(data)
    workspace = Workspace.objects.get(id=workspace_id)
    with workspace_scope(workspace_id), transaction.atomic():
        subjects = _stored(clean["categories"], clean["window_end"])
        for key in _accessed(workspace_id, clean["categories"], clean["window_start"],
                             clean["window_end"]):
            subjects[key] = "accessed"
        breach = Breach(workspace_id=workspace_id, affected_count=len(subjects), **clean)
        accessed = sum(1 for reason in subjects.values() if reason == "accessed")
        breach.authority_notice = draft_authority_notice(breach, workspace, accessed=accessed)
        breach.subject_notice = draft_subject_notice(breach, workspace)
        breach.save(force_insert=True)
        BreachSubject.objects.bulk_create(
            (BreachSubject(workspace_id=workspace_id, breach=breach, subject_type=t,
                           subject_id=i, reason=r) for (t, i), r in sorted(subjects.items())),
            batch_size=1000)
        audit.record(action=audit.Action.BREACH_RECORDED, actor=actor,
                     workspace_id=workspace_id, subject_type="breach", subject_id=breach.id,
                     detail={"categories": clean["categories"], "affected": len(subjects)})
    return breach


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def draft_authority_notice(breach: Breach, workspace: Workspace, *, accessed: int) -> str:
    """GDPR Art. 33(3) (a)-(d) and DPDP Rules 2025 rule 7(2)(b) contents, for staff to edit."""
    return "\n".join([
        f"Personal data breach notification — {workspace.name}",
        "",
        f"Nature of the breach: {breach.title}. {breach.description}",
        f"Period: {_utc(breach.window_start)} to {_utc(breach.window_end)}; "
        f"became aware: {_utc(breach.discovered_at)}; detailed report due by "
        f"{_utc(breach.authority_deadline)}.",
        "Location of occurrence (system, site): [to be completed]",
        f"Categories of personal data: {', '.join(breach.categories)}.",
        f"Approximate number of data subjects concerned: {breach.affected_count} "
        f"({accessed} of them had this data read during the period).",
        f"Contact point for more information: {breach.contact}.",
        f"Likely consequences: {breach.likely_consequences or '[to be assessed]'}",
        f"Measures taken or proposed, including mitigation: {breach.measures or '[to be set]'}",
        "Circumstances, cause and the person responsible, if known: [to be completed]",
        "Measures to prevent recurrence: [to be completed]",
        "Intimations given to affected data subjects: [date and means]",
    ])


def draft_subject_notice(breach: Breach, workspace: Workspace) -> str:
    """GDPR Art. 34(2) and DPDP Rules 2025 rule 7(1) contents, in plain language."""
    return "\n".join([
        f"Important: a security incident at {workspace.name} may have involved your data.",
        "",
        f"What happened: {breach.description}",
        f"When: between {_utc(breach.window_start)} and {_utc(breach.window_end)}.",
        "Where: [the system or place where it happened]",
        f"Which of your data: {', '.join(breach.categories)}.",
        f"What it could mean for you: {breach.likely_consequences or '[to be assessed]'}",
        f"What we have done: {breach.measures or '[to be set]'}",
        "What you can do: be wary of messages asking for passwords or payments that claim to "
        "come from us; [further steps].",
        f"Contact: {breach.contact}",
    ])


def breach_get(*, workspace_id: uuid.UUID, breach_id: uuid.UUID | str) -> Breach:
    try:
        bid = uuid.UUID(str(breach_id))
    except ValueError:
        raise NotFound("no such breach") from None
    with workspace_scope(workspace_id):
        found = Breach.objects.filter(id=bid).first()
    if found is None:
        raise NotFound("no such breach")
    return found


def breach_list(*, workspace_id: uuid.UUID) -> list[Breach]:
    with workspace_scope(workspace_id):
        return list(Breach.objects.order_by("-discovered_at"))


def breach_subjects(*, workspace_id: uuid.UUID, breach_id: uuid.UUID,
                    limit: int = 1000) -> list[BreachSubject]:
    with workspace_scope(workspace_id):
        return list(BreachSubject.objects.filter(breach_id=breach_id)
                    .order_by("subject_type", "subject_id")[:limit])


def _kind(kind: str) -> str:
    if kind not in NOTICE_KINDS:
        raise ValidationError("the notice is 'authority' or 'subjects'", field="kind")
    return kind


def breach_notice_edit(*, workspace_id: uuid.UUID, breach_id: uuid.UUID | str, kind: str,
                       text: str, actor: audit.Actor) -> Breach:
    """Replace the draft of a notice (before it is marked sent)."""
    _kind(kind)
    if not text.strip() or len(text) > 20000:
        raise ValidationError("1-20000 characters", field="text")
    breach = breach_get(workspace_id=workspace_id, breach_id=breach_id)
    sent = breach.authority_notified_at if kind == "authority" else breach.subjects_notified_at
    if sent is not None:
        raise ValidationError("this notice was sent; it can no longer change", field="text")
    with workspace_scope(workspace_id), transaction.atomic():
        setattr(breach, "authority_notice" if kind == "authority" else "subject_notice",
                text.strip())
        breach.save()
        audit.record(action=audit.Action.BREACH_NOTICE_EDITED, actor=actor,
                     workspace_id=workspace_id, subject_type="breach", subject_id=breach.id,
                     detail={"kind": kind})
    return breach


def breach_notice_mark_sent(*, workspace_id: uuid.UUID, breach_id: uuid.UUID | str, kind: str,
                            actor: audit.Actor, sent_at: datetime | None = None) -> Breach:
    """Record that a notice went out; when both have, the breach is ``notified``."""
    _kind(kind)
    when = sent_at or timezone.now()
    if timezone.is_naive(when) or when > timezone.now():
        raise ValidationError("a past time with a UTC offset", field="sent_at")
    breach = breach_get(workspace_id=workspace_id, breach_id=breach_id)
    with workspace_scope(workspace_id), transaction.atomic():
        if kind == "authority":
            breach.authority_notified_at = breach.authority_notified_at or when
        else:
            breach.subjects_notified_at = breach.subjects_notified_at or when
        if breach.authority_notified_at and breach.subjects_notified_at:
            breach.status = BreachStatus.NOTIFIED
        breach.save()
        audit.record(action=audit.Action.BREACH_NOTICE_SENT, actor=actor,
                     workspace_id=workspace_id, subject_type="breach", subject_id=breach.id,
                     detail={"kind": kind, "sent_at": when.isoformat(),
                             "late": kind == "authority" and when > breach.authority_deadline})
    return breach
