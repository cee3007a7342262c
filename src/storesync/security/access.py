"""Audited access to personal data.

    with personal_data_access(actor=actor, workspace_id=ws.id, purpose="support"):
        email = customer.email          # decrypts, and is recorded

When the block ends, one ``personal_data.read`` audit event per data subject is appended,
naming the actor, the subject, the fields actually read and the purpose. A read of a personal
field outside such a block raises ``PersonalDataAccessError``: there is no unaudited path.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from storesync.security.audit import Action, Actor, Entry, record_many


class Purpose(StrEnum):
    """Why personal data is read; every read names one, and the audit log keeps it."""

    CUSTOMER_SUPPORT = "customer_support"
    ORDER_FULFILMENT = "order_fulfilment"
    ACCOUNT_MANAGEMENT = "account_management"
    LEGAL_OBLIGATION = "legal_obligation"
    DATA_SUBJECT_REQUEST = "data_subject_request"
    SECURITY_INVESTIGATION = "security_investigation"


class PersonalDataAccessError(PermissionError):
    """Personal data was read outside an audited access scope."""


@dataclass
class AccessScope:
    actor: Actor
    workspace_id: uuid.UUID
    purpose: str
    reads: dict[tuple[str, str], set[str]] = field(default_factory=dict)


_current: contextvars.ContextVar[AccessScope | None] = contextvars.ContextVar(
    "storesync_personal_data_access", default=None
)


@contextmanager
def personal_data_access(
    *, actor: Actor, workspace_id: uuid.UUID, purpose: str
) -> Iterator[AccessScope]:
    """Allow reading personal data of one workspace; audit every subject read on exit."""
    if not purpose:
        raise ValueError("a purpose is required to read personal data")
    scope = AccessScope(actor=actor, workspace_id=workspace_id, purpose=purpose)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        if scope.reads:
            record_many(
                Entry(
                    Action.PERSONAL_DATA_READ,
                    actor,
                    workspace_id,
                    subject_type,
                    subject_id,
                    tuple(sorted(fields)),
                    purpose,
                )
                for (subject_type, subject_id), fields in scope.reads.items()
            )


def data_subject(instance: Any) -> tuple[str, str]:
    """The subject a row's personal data is about: the model's ``data_subject()`` or itself.

    Cached on the loaded instance: it is asked on every field read."""
    cached = instance.__dict__.get("_storesync_subject")
    if cached is not None:
        return cached
    method = getattr(instance, "data_subject", None)
    if callable(method):
        subject_type, subject_id = method()
        cached = (subject_type, str(subject_id))
    else:
        cached = (instance._meta.model_name, str(instance.pk))
    instance.__dict__["_storesync_subject"] = cached
    return cached


def record_read(instance: Any, field_name: str, label: str | None = None) -> None:
    """Note that ``field_name`` of ``instance`` is being read, or raise outside a scope.

    ``label`` is the ``model.field`` name the audit event lists (computed when not given).
    Runs on every personal attribute read, so it stays a few lookups long: once an instance
    has been checked against the current scope, the instance keeps (scope, its workspace,
    the subject's field set) and later reads in the same scope only add to that set."""
    scope = _current.get()
    values = instance.__dict__
    seen = values.get("_storesync_reads")
    if seen is not None and seen[0] is scope and seen[1] is values.get("workspace_id"):
        seen[2].add(label or f"{instance._meta.model_name}.{field_name}")
        return
    if scope is None:
        raise PersonalDataAccessError(
            f"{instance._meta.label}.{field_name} is personal data: read it inside "
            "personal_data_access(actor=..., purpose=...)"
        )
    workspace_id = getattr(instance, "workspace_id", None)
    if workspace_id is not scope.workspace_id and workspace_id != scope.workspace_id:
        raise PersonalDataAccessError("personal data of another workspace")
    subject = data_subject(instance)
    fields = scope.reads.get(subject)
    if fields is None:
        fields = scope.reads[subject] = set()
    fields.add(label or f"{instance._meta.model_name}.{field_name}")
    values["_storesync_reads"] = (scope, values.get("workspace_id"), fields)
