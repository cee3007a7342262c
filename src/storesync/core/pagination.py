"""Keyset ("cursor") pagination on time-ordered UUIDv7 primary keys: newest first.

A cursor is the id of the last row of the previous page. Unlike OFFSET, the cost of a page does
not grow with its depth, and rows inserted meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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


def keyset_batches(make_queryset: Callable[[], models.QuerySet[M]], *,
                   workspace_id: uuid.UUID, batch_size: int = 500) -> Iterator[list[M]]:
    """Every row of ``make_queryset()`` in ascending id order, ``batch_size`` rows at a time.

    Memory stays constant whatever the table's size (no ``.all()`` into a list), and each
    batch is read inside the workspace scope, so the iterator can be consumed anywhere (a
    streaming response, a file writer) without holding a scope open between batches.
    """
    from storesync.core.tenancy import workspace_scope

    last: uuid.UUID | None = None
    while True:
        with workspace_scope(workspace_id):
            queryset = make_queryset()
            if last is not None:
                queryset = queryset.filter(id__gt=last)
            batch = list(queryset.order_by("id")[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk
        if len(batch) < batch_size:
            return
