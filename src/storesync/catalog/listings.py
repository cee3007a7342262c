"""Listings: which variant is sold on which channel connection, under which platform ids.

Writes (``listing_*`` services) and reads (``listings_*`` selectors) for ``catalog.Listing``.
The catalog sits below the channels app: connections are referred to by id only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from storesync.catalog.models import Listing, ListingStatus, Variant
from storesync.core.compiled_sql import tenant_rows
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.security import audit


@dataclass
class ListingInput:
    variant_id: uuid.UUID
    connection_id: uuid.UUID
    external_product_id: str
    external_variant_id: str
    inventory_item_id: str
    channel_location_id: str = ""
    price_override_minor: int | None = None
    safety_buffer: int | None = None
    status: str = ListingStatus.ACTIVE


def _check(data: ListingInput) -> None:
    for name in ("external_product_id", "external_variant_id", "inventory_item_id"):
        value = getattr(data, name)
        if not value or not value.strip() or len(value) > 255:
            raise ValidationError("the platform's id, 1-255 characters", field=name)
    if len(data.channel_location_id) > 255:
        raise ValidationError("at most 255 characters", field="channel_location_id")
    if data.price_override_minor is not None and data.price_override_minor < 0:
        raise ValidationError("a price cannot be negative", field="price_override")
    if data.safety_buffer is not None and data.safety_buffer < 0:
        raise ValidationError("zero or a positive whole number", field="safety_buffer")
    if data.status not in ListingStatus.values:
        raise ValidationError(f"status is one of {', '.join(ListingStatus.values)}",
                              field="status")


def listing_create(*, workspace_id: uuid.UUID, data: ListingInput,
                   actor: audit.Actor) -> Listing:
    """Bind a variant to a connection. One listing per (connection, variant) and per
    (connection, external variant id); a second one is a Conflict naming the field."""
    _check(data)
    connection_model = Listing._meta.get_field("connection").related_model
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            if not connection_model._default_manager.filter(
                    id=data.connection_id).exists():
                raise NotFound("no such connection")
            if not Variant.objects.filter(id=data.variant_id).exists():
                raise NotFound("no such variant")
            if Listing.objects.filter(connection_id=data.connection_id,
                                      variant_id=data.variant_id).exists():
                raise Conflict("this variant is already listed on this connection",
                               field="variant_id")
            return Listing.objects.create(
                workspace_id=workspace_id, variant_id=data.variant_id,
                connection_id=data.connection_id,
                external_product_id=data.external_product_id.strip(),
                external_variant_id=data.external_variant_id.strip(),
                inventory_item_id=data.inventory_item_id.strip(),
                channel_location_id=data.channel_location_id.strip(),
                price_override_minor=data.price_override_minor,
                safety_buffer=data.safety_buffer, status=data.status)
    except IntegrityError:
        raise Conflict("another listing of this connection has this external variant id",
                       field="external_variant_id") from None


EDITABLE = frozenset({"status", "safety_buffer", "price_override_minor"})


def _check_change(name: str, value: object) -> None:
    if name == "status":
        if value not in ListingStatus.values:
            raise ValidationError(f"status is one of {', '.join(ListingStatus.values)}",
                                  field="status")
    elif value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                or value < 0):
        raise ValidationError("zero or a positive whole number",
                              field=name.removesuffix("_minor"))


def listing_update(*, workspace_id: uuid.UUID, listing_id: uuid.UUID | str,
                   changes: Mapping[str, object], actor: audit.Actor) -> Listing:
    """Change what a seller controls on a listing: ``status`` (an unlisted listing receives
    no pushes), ``safety_buffer`` (None: the connection's) and ``price_override_minor``."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError("cannot be changed here", field=sorted(unknown)[0])
    for name, value in changes.items():
        _check_change(name, value)
    lid = parse_id(listing_id, what="listing")
    with workspace_scope(workspace_id), transaction.atomic():
        if not Listing.objects.filter(id=lid).update(**changes, updated_at=timezone.now()):
            raise NotFound("no such listing")
        return Listing.objects.select_related("variant").get(id=lid)


def listing_rebind(*, workspace_id: uuid.UUID, listing_id: uuid.UUID, data: ListingInput,
                   actor: audit.Actor) -> Listing:
    """Point a listing at the channel's current ids for its variant (the product was made
    again on the channel, found by SKU on a first sync). What the channel showed is forgotten:
    the next push reads it again."""
    _check(data)
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            if not Listing.objects.filter(id=listing_id, variant_id=data.variant_id,
                                          connection_id=data.connection_id).update(
                    external_product_id=data.external_product_id.strip(),
                    external_variant_id=data.external_variant_id.strip(),
                    inventory_item_id=data.inventory_item_id.strip(),
                    channel_location_id=data.channel_location_id.strip(),
                    last_channel_quantity=None, updated_at=timezone.now()):
                raise NotFound("no such listing")
            return Listing.objects.select_related("variant").get(id=listing_id)
    except IntegrityError:
        raise Conflict("another listing of this connection has this external variant id",
                       field="external_variant_id") from None


def listing_set_status(*, workspace_id: uuid.UUID, listing_id: uuid.UUID | str, status: str,
                       actor: audit.Actor) -> Listing:
    """List or unlist: an unlisted listing receives no quantity pushes."""
    return listing_update(workspace_id=workspace_id, listing_id=listing_id, actor=actor,
                          changes={"status": status})


def listing_record_channel_quantities(*, workspace_id: uuid.UUID,
                                      quantities: Mapping[uuid.UUID, int],
                                      pushed: bool) -> None:
    """Remember what each channel now shows (after a push, or after reading the channel):
    the ``expected`` value of the next compare-and-set push."""
    now = timezone.now()
    # One UPDATE per distinct quantity, not per listing: a push of a batch mostly sets the
    # same few numbers, and a statement per listing made large pushes slow.
    by_quantity: dict[int, list[uuid.UUID]] = {}
    for listing_id, quantity in quantities.items():
        by_quantity.setdefault(quantity, []).append(listing_id)
    with workspace_scope(workspace_id), transaction.atomic():
        for quantity, listing_ids in sorted(by_quantity.items()):
            changes: dict[str, object] = {"last_channel_quantity": quantity}
            if pushed:
                changes["last_pushed_at"] = now
            Listing.objects.filter(id__in=sorted(listing_ids)).update(**changes)


def listings_active_for_variants(*, workspace_id: uuid.UUID,
                                 variant_ids: Iterable[uuid.UUID]) -> list[Listing]:
    """The active listings of these variants, on every connection."""
    with workspace_scope(workspace_id):
        # A compiled read: every stock change (each order) asks this (ADR 0027).
        return tenant_rows(Listing, where={"variant_id__in": sorted(set(variant_ids)),
                                           "status": ListingStatus.ACTIVE}, order_by=("id",))


@dataclass(slots=True)
class PushTarget:
    """What a quantity push reads of a listing: one row of ``listings_to_push``.

    A plain object rather than a ``Listing`` with its ``Variant``: a drain round reads up to
    250 of them and uses eight columns, and building two model instances per row was the
    largest part of a round's CPU (ADR 0030). ``last_channel_quantity`` changes as the push
    learns what the channel shows."""

    id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    inventory_item_id: str
    channel_location_id: str
    safety_buffer: int | None
    status: str
    last_channel_quantity: int | None


def listings_to_push(*, workspace_id: uuid.UUID,
                     listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PushTarget]:
    """The listings named, as ``PushTarget`` rows (one query, no model instances)."""
    with workspace_scope(workspace_id):
        rows = Listing.objects.filter(id__in=list(listing_ids)).values_list(
            "id", "variant_id", "variant__sku", "inventory_item_id", "channel_location_id",
            "safety_buffer", "status", "last_channel_quantity")
        return {row[0]: PushTarget(*row) for row in rows}


def listings_of_connection(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                           listing_id: uuid.UUID | None = None) -> list[Listing]:
    """The connection's listings (or the one named) with their variants, oldest first."""
    with workspace_scope(workspace_id):
        queryset = Listing.objects.filter(connection_id=connection_id)
        if listing_id is not None:
            queryset = queryset.filter(id=listing_id)
        return list(queryset.select_related("variant").order_by("id"))


def listing_page(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                 cursor: str | None = None, limit: int = 50) -> Page[Listing]:
    """One page of the connection's listings, newest first (keyset cursor)."""
    with workspace_scope(workspace_id):
        return keyset_page(Listing.objects.filter(connection_id=connection_id)
                           .select_related("variant"), cursor=cursor, limit=limit)
