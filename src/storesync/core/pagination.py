"""Keyset ("cursor") pagination on time-ordered UUIDv7 primary keys: newest first.

A cursor is the id of the last row of the previous page. Unlike OFFSET, the cost of a page does
not grow with its depth, and rows inserted meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import models

from storesync.core.errors import ValidationError

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def keyset_page(queryset: models.QuerySet[M], *, cursor: str | None, limit: int) -> Page[M]:
    if cursor:
        try:
            queryset = queryset.filter(id__lt=uuid.UUID(cursor))
        except ValueError:
            raise ValidationError("not a cursor from this API", field="cursor") from None
    items = list(queryset.order_by("-id")[: limit + 1])
    next_cursor = str(items[limit - 1].pk) if len(items) > limit else None
    return Page(items[:limit], next_cursor)
