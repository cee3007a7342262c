"""The first sync of a connection: the channel's catalog tied to the hub's, then its recent
orders.

Every channel variant is matched to a hub variant by SKU and gets a ``Listing`` (its first
push follows, so the channel shows the hub's quantity). Nothing is duplicated silently: a SKU
several channel variants share, and a variant without a SKU, are recorded as
``UnmatchedVariant`` with the reason, for a person to map. A SKU the hub does not know is
created in the hub only when asked (``create_missing``), with the channel's quantity received
at a hub location; otherwise it is recorded as unmatched too. Recent orders (``days``) are
then fetched through reconciliation, the same path polling takes.

Network calls happen outside database transactions; each write is its own service call, so a
run stopped half-way is simply run again (it matches what is already listed, skips it).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.catalog.listings import ListingInput, listing_rebind
from storesync.catalog.models import Listing, ListingStatus, Variant
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.channels import reconcile
from storesync.channels.connectors.base import ChannelProduct, ChannelVariant
from storesync.channels.models import Connection, LocationMapping, SyncCursor, UnmatchedVariant
from storesync.channels.services import connector_for, listing_add, queue_push
from storesync.core.errors import NotFound, StoresyncError, ValidationError
from storesync.core.ids import parse_id
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Location
from storesync.inventory.services import stock_receive
from storesync.security import audit

DEFAULT_DAYS = 60
MAX_DAYS = 3650
NO_SKU = "the channel variant has no SKU"
DUPLICATE_SKU = "several channel variants share this SKU"
UNKNOWN_SKU = "no hub variant has this SKU"

# (stage, done, total): "catalog", "listings", "orders"
StageProgress = Callable[[str, int, int | None], None]


@dataclass
class InitialSyncReport:
    """What a first sync did; ``unmatched`` lists (sku, reason) of what it left to a person."""

    products: int = 0
    variants: int = 0
    listed: int = 0
    already_listed: int = 0
    created: int = 0
    # Variants created without their channel stock: the hub has no active location to hold it.
    stock_not_imported: int = 0
    unmatched: list[tuple[str, str]] = field(default_factory=list)
    orders: int = 0
    orders_refused: int = 0

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["unmatched"] = [{"sku": sku, "reason": reason} for sku, reason in self.unmatched]
        return data


@dataclass(frozen=True)
class _Found:
    product: ChannelProduct
    variant: ChannelVariant


def _connection(workspace_id: uuid.UUID, connection_id: uuid.UUID | str) -> Connection:
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id):
        connection = Connection.objects.filter(id=cid).first()
    if connection is None:
        raise NotFound("no such connection")
    return connection


def connection_initial_sync(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                            actor: audit.Actor, create_missing: bool = False,
                            days: int = DEFAULT_DAYS, orders: bool = True,
                            progress: StageProgress | None = None) -> InitialSyncReport:
    """Import the channel's catalog and stock, then its orders of the last ``days`` days (see
    the module docstring). Raises ``ChannelError`` when the platform fails; what was done
    before stays done, and running it again continues."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"between 1 and {MAX_DAYS} days", field="days")
    connection = _connection(workspace_id, connection_id)
    connector = connector_for(connection)
    report = InitialSyncReport()
    tick = progress or (lambda stage, done, total: None)
    found: list[_Found] = []
    for product in connector.import_catalog(
            progress=lambda done, total: tick("catalog", done, total)):
        report.products += 1
        found += [_Found(product, variant) for variant in product.variants]
    report.variants = len(found)
    locations = _channel_locations(connector, connection, [f.variant for f in found])
    _match(connection, found, locations, report, actor=actor, create_missing=create_missing,
           tick=tick)
    if orders:
        _start_orders_at(connection, days)
        done = reconcile.reconcile_orders(workspace_id=workspace_id,
                                          connection_id=connection.id)
        report.orders, report.orders_refused = done.orders, len(done.failed)
        tick("orders", done.orders, done.orders)
    return report


def _channel_locations(connector: Any, connection: Connection,
                       variants: Iterable[ChannelVariant]) -> dict[str, tuple[str, int]]:
    """inventory item id -> (the channel location its listing addresses, quantity there).
    Mapped channel locations win; otherwise the first location the channel reports."""
    with workspace_scope(connection.workspace_id):
        mapped = set(LocationMapping.objects.filter(connection_id=connection.id)
                     .values_list("channel_location_id", flat=True))
    items = [v.inventory_item_id for v in variants if v.sku and v.inventory_item_id]
    seen: dict[str, tuple[str, int]] = {}
    for level in connector.fetch_levels(items) if items else []:
        current = seen.get(level.inventory_item_id)
        if current is None or (level.location_id in mapped and current[0] not in mapped):
            seen[level.inventory_item_id] = (level.location_id, level.available)
    return seen


def _match(connection: Connection, found: list[_Found], locations: dict[str, tuple[str, int]],
           report: InitialSyncReport, *, actor: audit.Actor, create_missing: bool,
           tick: StageProgress) -> None:
    workspace_id = connection.workspace_id
    counts = Counter(f.variant.sku.strip() for f in found if f.variant.sku.strip())
    with workspace_scope(workspace_id):
        hub = {v.sku: v for v in Variant.objects.filter(sku__in=list(counts))}
        listed = {listing.variant_id: listing for listing in
                  Listing.objects.filter(connection_id=connection.id)}
    unmatched: list[tuple[_Found, str]] = []
    missing: dict[str, list[_Found]] = defaultdict(list)
    for n, item in enumerate(found, start=1):
        sku = item.variant.sku.strip()
        if not sku:
            unmatched.append((item, NO_SKU))
        elif counts[sku] > 1:
            unmatched.append((item, DUPLICATE_SKU))
        elif sku in hub:
            current = listed.get(hub[sku].id)
            if current is not None:
                report.already_listed += 1
                _rebind_if_moved(connection, current, item, locations, actor)
            else:
                _list(connection, hub[sku], item, locations, actor)
                report.listed += 1
        elif create_missing:
            missing[item.product.external_id].append(item)
        else:
            unmatched.append((item, UNKNOWN_SKU))
        tick("listings", n, len(found))
    for items in missing.values():
        try:
            created, without_stock = _create(connection, items, locations, actor)
            report.created += created
            report.stock_not_imported += without_stock
            report.listed += len(items)
        except StoresyncError as exc:  # a title or SKU the hub refuses: a person decides
            unmatched += [(item, f"could not create it: {exc.message}") for item in items]
    _record_unmatched(connection, unmatched, locations)
    report.unmatched = [(item.variant.sku, reason) for item, reason in unmatched]


def _list(connection: Connection, variant: Variant, item: _Found,
          locations: dict[str, tuple[str, int]], actor: audit.Actor) -> Listing:
    location = locations.get(item.variant.inventory_item_id, ("", 0))[0]
    return listing_add(workspace_id=connection.workspace_id, actor=actor, data=ListingInput(
        variant_id=variant.id, connection_id=connection.id,
        external_product_id=item.product.external_id,
        external_variant_id=item.variant.external_id,
        inventory_item_id=item.variant.inventory_item_id, channel_location_id=location))


def _rebind_if_moved(connection: Connection, listing: Listing, item: _Found,
                     locations: dict[str, tuple[str, int]], actor: audit.Actor) -> None:
    """A listed SKU the channel now has under other ids (made again there): follow it, and
    push, so the new item shows the hub's quantity."""
    if (listing.external_variant_id, listing.inventory_item_id) == (
            item.variant.external_id, item.variant.inventory_item_id):
        return
    data = ListingInput(
        variant_id=listing.variant_id, connection_id=connection.id,
        external_product_id=item.product.external_id,
        external_variant_id=item.variant.external_id,
        inventory_item_id=item.variant.inventory_item_id,
        channel_location_id=locations.get(item.variant.inventory_item_id, ("", 0))[0])
    with workspace_scope(connection.workspace_id), transaction.atomic():
        rebound = listing_rebind(workspace_id=connection.workspace_id, listing_id=listing.id,
                                 data=data, actor=actor)
        if rebound.status == ListingStatus.ACTIVE:
            queue_push(connection.workspace_id, rebound)


def create_listed(connection: Connection, product: ChannelProduct,
                  locations: dict[str, tuple[str, int]], actor: audit.Actor) -> tuple[int, int]:
    """Create ``product``'s variants in the hub with their channel stock, and list them (the
    mapping screen's "create it")."""
    return _create(connection, [_Found(product, v) for v in product.variants], locations, actor)


def _create(connection: Connection, items: list[_Found],
            locations: dict[str, tuple[str, int]], actor: audit.Actor) -> tuple[int, int]:
    """One hub product for these variants of one channel product, its stock received at the
    hub location that feeds the channel, and their listings: all or nothing. Returns (created,
    how many had stock the hub had no location for)."""
    without_stock = 0
    workspace_id = connection.workspace_id
    product = items[0].product
    options = [name for name in product.option_names if name][:3]
    data = ProductInput(
        title=product.title or items[0].variant.sku, handle="", description=product.description,
        vendor=product.vendor, product_type=product.product_type,
        status=product.status if product.status in ("draft", "active", "archived") else "draft",
        tags=list(product.tags), options=options,
        variants=[VariantInput(sku=item.variant.sku.strip(), price_minor=item.variant.price_minor,
                               options=list(item.variant.options[:len(options)]),
                               barcode=item.variant.barcode,
                               compare_at_minor=item.variant.compare_at_minor,
                               weight_grams=item.variant.weight_grams,
                               hsn_code=item.variant.hsn_code)
                  for item in items])
    with workspace_scope(workspace_id), transaction.atomic():
        created = product_create(workspace_id=workspace_id, data=data, actor=actor)
        variants = {v.sku: v for v in created.variants.all()}
        for item in items:
            variant = variants[item.variant.sku.strip()]
            channel_location, quantity = locations.get(item.variant.inventory_item_id, ("", 0))
            hub_location = _hub_location(connection, channel_location)
            if quantity > 0 and hub_location is None:
                without_stock += 1
            elif quantity > 0 and hub_location is not None:
                stock_receive(workspace_id=workspace_id, variant_id=variant.id,
                              location_id=hub_location, quantity=quantity, actor=actor,
                              reason="first sync", reference=f"connection:{connection.id}")
            _list(connection, variant, item, locations, actor)
    return len(items), without_stock


def _hub_location(connection: Connection, channel_location_id: str) -> uuid.UUID | None:
    """Where a created variant's channel stock is received: the hub location mapped to the
    channel location, else the oldest active one."""
    mapped = LocationMapping.objects.filter(
        connection_id=connection.id, channel_location_id=channel_location_id,
        location__is_active=True).values_list("location_id", flat=True).first()
    if mapped is not None:
        return mapped
    return (Location.objects.filter(is_active=True).order_by("created_at", "id")
            .values_list("id", flat=True).first())


def _record_unmatched(connection: Connection, unmatched: list[tuple[_Found, str]],
                      locations: dict[str, tuple[str, int]]) -> None:
    """Replace the connection's unmatched variants with this run's."""
    with workspace_scope(connection.workspace_id), transaction.atomic():
        UnmatchedVariant.objects.filter(connection_id=connection.id).delete()
        UnmatchedVariant.objects.bulk_create([
            UnmatchedVariant(
                workspace_id=connection.workspace_id, connection_id=connection.id,
                external_product_id=item.product.external_id[:255],
                external_variant_id=item.variant.external_id[:255],
                inventory_item_id=item.variant.inventory_item_id[:255],
                channel_location_id=locations.get(item.variant.inventory_item_id,
                                                  ("", 0))[0][:255],
                sku=item.variant.sku[:255],
                title=" / ".join(t for t in (item.product.title, item.variant.title) if t)[:255],
                price_minor=item.variant.price_minor,
                channel_quantity=locations.get(item.variant.inventory_item_id, ("", 0))[1],
                reason=reason)
            for item, reason in unmatched], ignore_conflicts=True)


def _start_orders_at(connection: Connection, days: int) -> None:
    """Reconciliation starts ``days`` back (applying an order again changes nothing)."""
    since = timezone.now() - timedelta(days=days)
    state = reconcile.sync_cursor_get(workspace_id=connection.workspace_id,
                                      connection_id=connection.id, stream=reconcile.ORDERS)
    with workspace_scope(connection.workspace_id), transaction.atomic():
        SyncCursor.objects.filter(id=state.id).update(updated_since=since, cursor="")


JOB_KIND = "channels.initial_sync"
PROGRESS_EVERY = 50


def initial_sync_start(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                       actor: audit.Actor, create_missing: bool = False,
                       days: int = DEFAULT_DAYS) -> Any:
    """Queue a first sync as a background ``Job`` (state, progress and retry in the UI)."""
    from storesync.core.jobs import job_create

    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"between 1 and {MAX_DAYS} days", field="days")
    connection = _connection(workspace_id, connection_id)
    return job_create(workspace_id=workspace_id, kind=JOB_KIND, actor=actor, params={
        "connection_id": str(connection.id), "create_missing": bool(create_missing),
        "days": int(days)})


def run_initial_sync_job(ctx: Any) -> dict[str, Any]:
    """``core.jobs`` runner of ``JOB_KIND``: progress per stage; a platform failure fails the
    job with the platform's words (retrying it continues where it stopped)."""
    from storesync.channels.connectors.base import ChannelError
    from storesync.core.jobs import JobFailed

    params = ctx.params
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        # One row update per 50 items (and at each stage's end), not per item.
        if done == total or done - last.get(stage, -PROGRESS_EVERY) >= PROGRESS_EVERY:
            last[stage] = done
            ctx.progress(done=done, total=total, stage=stage)

    try:
        report = connection_initial_sync(
            workspace_id=ctx.workspace_id, connection_id=params["connection_id"],
            actor=ctx.actor, create_missing=bool(params.get("create_missing")),
            days=int(params.get("days") or DEFAULT_DAYS), progress=progress)
    except ChannelError as exc:
        raise JobFailed(f"the platform refused: {exc.message}") from None
    return report.summary()
