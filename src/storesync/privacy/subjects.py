"""Who a privacy record is about: a customer of the workspace, or an anonymous visitor."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from storesync.core.errors import NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.privacy.consent_models import SubjectType

# The banner makes a random id (crypto.randomUUID); accept any similar opaque token.
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Subject:
    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


def subject_parse(*, workspace_id: uuid.UUID, subject_type: str, subject_id: str,
                  field_prefix: str = "") -> Subject:
    """A validated subject. A customer must exist in the workspace (else NotFound, the same
    answer as for another workspace's customer); a visitor id must look like one."""
    if subject_type == SubjectType.CUSTOMER:
        cid = parse_id(subject_id, what="customer")
        with workspace_scope(workspace_id):
            if not Customer.objects.filter(id=cid).exists():
                raise NotFound("no such customer")
        return Subject(SubjectType.CUSTOMER, str(cid))
    if subject_type == SubjectType.VISITOR:
        if not VISITOR_ID.match(subject_id or ""):
            raise ValidationError("a visitor id is 8-64 letters, digits, '-' or '_'",
                                  field=field_prefix + "subject_id")
        return Subject(SubjectType.VISITOR, subject_id)
    raise ValidationError("subject_type is 'customer' or 'visitor'",
                          field=field_prefix + "subject_type")
