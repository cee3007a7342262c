"""The outbox: one row per (connection, listing) whose stock changed, written in the same
transaction as the change, drained by the dispatcher after commit.

Rows carry no quantity: the dispatcher computes it when it sends, so every row of a listing
that is pending at that moment is settled by one push of the latest value (coalescing). A row
is marked done only after the push that covered it succeeded; a worker killed in between
leaves it pending, and the next drain sends it again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Subquery
from django.utils import timezone

from storesync.catalog.listings import listings_active_for_variants
from storesync.channels.models import Connection, OutboxItem, OutboxKind, OutboxState
from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.logs import get_logger
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.security import audit

log = get_logger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0


def backoff_delay_s(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempts + 1``: exponential, capped, with jitter
    (half fixed, half random, so many listings failing together do not retry together)."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def on_stock_changed(sender: Any, *, workspace_id: uuid.UUID,
                     variant_ids: frozenset[uuid.UUID], **kwargs: Any) -> None:
    """``inventory.signals.stock_changed`` receiver: an outbox row per active listing of these
    variants, in the caller's transaction; the dispatcher is enqueued once it commits."""
    listings = listings_active_for_variants(workspace_id=workspace_id, variant_ids=variant_ids)
    if not listings:
        return
    now = timezone.now()
    with workspace_scope(workspace_id):
        OutboxItem.objects.bulk_create([
            OutboxItem(workspace_id=workspace_id, connection_id=listing.connection_id,
                       listing_id=listing.id, next_attempt_at=now)
            for listing in listings
        ])
    connection_ids = sorted({listing.connection_id for listing in listings})

    def enqueue() -> None:
        from storesync.channels.tasks import enqueue_dispatch

        for connection_id in connection_ids:
            enqueue_dispatch(workspace_id, connection_id)

    transaction.on_commit(enqueue)


@dataclass
class DueListing:
    """The pending rows of one listing, settled together by one push."""

    listing_id: uuid.UUID
    row_ids: list[uuid.UUID]
    attempts: int


def due_listings(*, connection: Connection, limit: int,
                 now: datetime | None = None) -> list[DueListing]:
    """Listings with pending rows whose backoff has passed, oldest first, at most ``limit``.
    A listing waits while any of its rows waits (a new change does not cut a backoff short).

    One statement: the database groups the pending rows by listing, keeps the listings whose
    latest ``next_attempt_at`` has passed, takes the ``limit`` oldest and returns their rows.
    A drain round therefore reads about one platform batch of rows, however long the queue
    (reading thousands of rows per round to push a hundred made a 10,000-SKU change slow)."""
    now = now or timezone.now()
    groups: dict[uuid.UUID, DueListing] = {}
    with workspace_scope(connection.workspace_id):
        pending = OutboxItem.objects.filter(
            connection_id=connection.id, state=OutboxState.PENDING, kind=OutboxKind.QUANTITY)
        chosen = (pending.values("listing_id")
                  .annotate(first_at=Min("created_at"), due_at=Max("next_attempt_at"))
                  .filter(due_at__lte=now)
                  .order_by("first_at", "listing_id")
                  .values("listing_id")[:limit])
        rows = pending.filter(listing_id__in=Subquery(chosen)).values_list(
            "id", "listing_id", "attempts", "created_at")
        for row_id, listing_id, attempts, _created_at in sorted(
                rows, key=lambda row: (row[3], row[0])):
            group = groups.setdefault(listing_id, DueListing(listing_id, [], 0))
            group.row_ids.append(row_id)
            group.attempts = max(group.attempts, attempts)
    return list(groups.values())


def next_due_at(*, connection: Connection) -> datetime | None:
    """When the earliest pending row becomes due (None: nothing pending)."""
    with workspace_scope(connection.workspace_id):
        return OutboxItem.objects.filter(
            connection_id=connection.id, state=OutboxState.PENDING,
        ).order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()


def outbox_mark_done(*, workspace_id: uuid.UUID, row_ids: Sequence[uuid.UUID],
                     pushed_listing_ids: Iterable[uuid.UUID] = ()) -> None:
    """The push covering these rows succeeded. Dead letters of ``pushed_listing_ids`` are
    settled too: a push sets the whole quantity, so the channel is now current for them."""
    now = timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        OutboxItem.objects.filter(id__in=list(row_ids), state=OutboxState.PENDING).update(
            state=OutboxState.DONE, done_at=now, last_error="")
        listing_ids = list(pushed_listing_ids)
        if listing_ids:
            OutboxItem.objects.filter(listing_id__in=listing_ids, state=OutboxState.DEAD).update(
                state=OutboxState.DONE, done_at=now)


def outbox_mark_failed(*, workspace_id: uuid.UUID, groups: Iterable[DueListing], error: str,
                       retryable: bool) -> datetime | None:
    """Count a failed attempt: back off, or dead-letter after ``MAX_ATTEMPTS`` (at once when
    not retryable). Returns the earliest retry time, if any row is still pending."""
    now = timezone.now()
    earliest: datetime | None = None
    with workspace_scope(workspace_id), transaction.atomic():
        for group in groups:
            attempts = group.attempts + 1
            rows = OutboxItem.objects.filter(id__in=group.row_ids, state=OutboxState.PENDING)
            if not retryable or attempts >= MAX_ATTEMPTS:
                rows.update(state=OutboxState.DEAD, attempts=attempts, last_error=error[:500])
                continue
            retry_at = now + timedelta(seconds=backoff_delay_s(attempts))
            rows.update(attempts=attempts, next_attempt_at=retry_at, last_error=error[:500])
            earliest = retry_at if earliest is None else min(earliest, retry_at)
    return earliest


def dead_letter_replay(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                       actor: audit.Actor) -> int:
    """Send the dead letters of a connection again (after fixing their cause): they become
    pending with a fresh attempt count. Returns how many rows were revived."""
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id), transaction.atomic():
        if not Connection.objects.filter(id=cid).exists():
            raise NotFound("no such connection")
        revived = OutboxItem.objects.filter(connection_id=cid, state=OutboxState.DEAD).update(
            state=OutboxState.PENDING, attempts=0, next_attempt_at=timezone.now())

        def enqueue() -> None:
            from storesync.channels.tasks import enqueue_dispatch

            enqueue_dispatch(workspace_id, cid)

        if revived:
            audit.record(action=audit.Action.DEAD_LETTERS_REPLAYED, actor=actor,
                         workspace_id=workspace_id, subject_type="connection",
                         subject_id=cid, detail={"rows": revived})
            transaction.on_commit(enqueue)
    log.info("dead_letters_replayed", connection_id=str(cid), rows=revived,
             actor_type=actor.type, actor_id=actor.id)
    return revived


DONE_RETENTION = timedelta(days=7)


def outbox_purge_done(*, older_than: timedelta = DONE_RETENTION) -> int:
    """Delete rows pushed more than ``older_than`` ago, in every workspace (they only explain
    recent pushes; dead letters are kept until replayed). Returns how many were deleted."""
    cutoff = timezone.now() - older_than
    with system_scope(), transaction.atomic():
        deleted, _ = OutboxItem.objects.filter(state=OutboxState.DONE,
                                               done_at__lt=cutoff).delete()
    return deleted
