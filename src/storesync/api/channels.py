"""``/api/v1/connections``: channel connections, their sync health and dead letters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.jobs import JobOut, job_out
from storesync.api.schemas import Amount, Strict
from storesync.catalog.listings import ListingInput, listing_page, listings_of_connection
from storesync.catalog.models import Listing
from storesync.channels import initial, mapping, outbox, selectors, services
from storesync.channels.models import LocationMapping, OutboxItem
from storesync.core.ids import parse_id
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get

router = Router(tags=["channels"])


class ConnectionOut(Schema):
    id: uuid.UUID
    platform: str
    name: str
    created_at: datetime
    last_synced_at: datetime | None
    pending: int
    dead_letters: int
    last_error: str
    last_error_at: datetime | None
    throttled_until: datetime | None


class DeadLetterOut(Schema):
    id: uuid.UUID
    kind: str  # quantity | fulfillment
    listing_id: uuid.UUID | None
    sku: str  # empty for a shipment
    subject: str  # the SKU, or "shipment #1001.1"
    attempts: int
    last_error: str
    created_at: datetime


class ReplayOut(Schema):
    replayed: int


class ListingIn(Strict):
    variant_id: uuid.UUID
    external_product_id: str = Field(min_length=1, max_length=255)
    external_variant_id: str = Field(min_length=1, max_length=255)
    inventory_item_id: str = Field(min_length=1, max_length=255)
    channel_location_id: str = Field("", max_length=255)
    price_override: Amount | None = Field(None, max_length=20)
    safety_buffer: int | None = Field(None, ge=0, le=1_000_000)
    status: str = "active"


class ListingOut(Schema):
    id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    external_product_id: str
    external_variant_id: str
    inventory_item_id: str
    channel_location_id: str
    price_override: str | None
    safety_buffer: int | None
    status: str
    last_channel_quantity: int | None
    last_pushed_at: datetime | None


class ListingPatch(Strict):
    status: str | None = None
    safety_buffer: int | None = Field(None, ge=0, le=1_000_000)
    price_override: Amount | None = Field(None, max_length=20)


class ListingPage(Schema):
    items: list[ListingOut]
    next_cursor: str | None


class MappingIn(Strict):
    channel_location_id: str = Field(min_length=1, max_length=255)
    location_id: uuid.UUID


class MappingOut(Schema):
    id: uuid.UUID
    channel_location_id: str
    location_id: uuid.UUID


def _dead_letter_out(item: OutboxItem) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "listing_id": item.listing_id,
            "sku": item.listing.variant.sku if item.listing else "",
            "subject": item.subject,
            "attempts": item.attempts, "last_error": item.last_error,
            "created_at": item.created_at}


def _listing_out(listing: Listing, currency: str) -> dict[str, Any]:
    price = listing.price_override_minor
    return {
        "id": listing.id, "variant_id": listing.variant_id, "sku": listing.variant.sku,
        "external_product_id": listing.external_product_id,
        "external_variant_id": listing.external_variant_id,
        "inventory_item_id": listing.inventory_item_id,
        "channel_location_id": listing.channel_location_id,
        "price_override": None if price is None else from_minor(price, currency),
        "safety_buffer": listing.safety_buffer, "status": listing.status,
        "last_channel_quantity": listing.last_channel_quantity,
        "last_pushed_at": listing.last_pushed_at,
    }


@router.get("", response=list[ConnectionOut], summary="Connections and their sync health")
def list_connections(request: HttpRequest) -> list[selectors.ConnectionHealth]:
    who = require(request, Perm.VIEW_REPORTS)
    return selectors.connection_health_list(workspace_id=who.workspace_id)


@router.get("/{connection_id}", response=ConnectionOut, summary="One connection's sync health")
def get_connection(request: HttpRequest, connection_id: str) -> selectors.ConnectionHealth:
    who = require(request, Perm.VIEW_REPORTS)
    return selectors.connection_health(workspace_id=who.workspace_id,
                                       connection_id=connection_id)


@router.get("/{connection_id}/dead-letters", response=list[DeadLetterOut],
            summary="Quantity pushes parked after repeated failures")
def list_dead_letters(request: HttpRequest, connection_id: str) -> list[dict[str, Any]]:
    who = require(request, Perm.MANAGE_CHANNELS)
    return [_dead_letter_out(item) for item in
            selectors.dead_letters(workspace_id=who.workspace_id, connection_id=connection_id)]


@router.post("/{connection_id}/dead-letters/replay", response=ReplayOut,
             summary="Push the dead letters again (after fixing their cause)")
def replay_dead_letters(request: HttpRequest, connection_id: str) -> dict[str, int]:
    who = require(request, Perm.MANAGE_CHANNELS)
    replayed = outbox.dead_letter_replay(workspace_id=who.workspace_id,
                                         connection_id=connection_id, actor=who.actor)
    return {"replayed": replayed}


@router.get("/{connection_id}/listings", response=ListingPage,
            summary="The variants listed on this connection, newest first")
def list_listings(request: HttpRequest, connection_id: str,
                  cursor: str | None = Query(None, max_length=64),
                  limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_REPORTS)
    health = selectors.connection_health(workspace_id=who.workspace_id,
                                         connection_id=connection_id)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    page = listing_page(workspace_id=who.workspace_id, connection_id=health.id, cursor=cursor,
                        limit=limit)
    return {"items": [_listing_out(listing, currency) for listing in page.items],
            "next_cursor": page.next_cursor}


@router.post("/{connection_id}/listings", response={201: ListingOut},
             summary="List a variant on this connection (its quantity is pushed at once)")
def create_listing(request: HttpRequest, connection_id: str, payload: ListingIn) -> Status:
    who = require(request, Perm.MANAGE_CHANNELS)
    cid = parse_id(connection_id, what="connection")
    currency = workspace_get(workspace_id=who.workspace_id).currency
    data = payload.model_dump(exclude={"price_override"})
    price = payload.price_override
    listing = services.listing_add(workspace_id=who.workspace_id, actor=who.actor,
                                   data=ListingInput(
        connection_id=cid, **data,
        price_override_minor=None if price is None else to_minor(
            price, currency, field="price_override")))
    listing = listings_of_connection(workspace_id=who.workspace_id, connection_id=cid,
                                     listing_id=listing.id)[0]
    return Status(201, _listing_out(listing, currency))


@router.patch("/{connection_id}/listings/{listing_id}", response=ListingOut,
              summary="Unlist or relist, set the listing's buffer or price override "
                      "(null clears them)")
def update_listing(request: HttpRequest, connection_id: str, listing_id: str,
                   payload: ListingPatch) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CHANNELS)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, object] = {}
    if "status" in given:
        changes["status"] = given["status"]
    if "safety_buffer" in given:
        changes["safety_buffer"] = given["safety_buffer"]
    if "price_override" in given:
        price = given["price_override"]
        changes["price_override_minor"] = None if price is None else to_minor(
            price, currency, field="price_override")
    listing = services.listing_change(workspace_id=who.workspace_id, actor=who.actor,
                                      connection_id=connection_id, listing_id=listing_id,
                                      changes=changes)
    return _listing_out(listing, currency)


@router.post("/{connection_id}/location-mappings", response={201: MappingOut},
             summary="Let a hub location's stock feed a channel location")
def create_mapping(request: HttpRequest, connection_id: str, payload: MappingIn) -> Status:
    who = require(request, Perm.MANAGE_CHANNELS)
    mapping: LocationMapping = services.location_mapping_add(
        workspace_id=who.workspace_id, connection_id=parse_id(connection_id, what="connection"),
        channel_location_id=payload.channel_location_id, location_id=payload.location_id)
    return Status(201, mapping)


class UnmatchedOut(Schema):
    id: uuid.UUID
    sku: str
    title: str
    reason: str
    external_product_id: str
    external_variant_id: str
    inventory_item_id: str
    price: Amount
    channel_quantity: int
    seen_at: datetime


class MapIn(Strict):
    sku: str = Field(description="the SKU of the hub variant to list as this channel variant")


class InitialSyncIn(Strict):
    create_missing: bool = Field(
        default=False, description="create hub products for SKUs the hub does not know")
    days: int = Field(default=initial.DEFAULT_DAYS, description="import orders of this many days")


@router.post("/{connection_id}/initial-sync", response={202: JobOut},
             summary="Start a first sync: match the channel's catalog, import recent orders")
def start_initial_sync(request: HttpRequest, connection_id: str,
                       payload: InitialSyncIn) -> Status:
    who = require(request, Perm.MANAGE_CHANNELS)
    job = initial.initial_sync_start(workspace_id=who.workspace_id, connection_id=connection_id,
                                     actor=who.actor, create_missing=payload.create_missing,
                                     days=payload.days)
    return Status(202, job_out(job))


@router.get("/{connection_id}/jobs", response=list[JobOut],
            summary="The connection's first-sync jobs, newest first")
def list_connection_jobs(request: HttpRequest, connection_id: str) -> list[dict[str, Any]]:
    who = require(request, Perm.MANAGE_CHANNELS)
    health = selectors.connection_health(workspace_id=who.workspace_id,
                                         connection_id=connection_id)
    return [job_out(job) for job in mapping.connection_jobs(workspace_id=who.workspace_id,
                                                             connection_id=health.id)]


@router.get("/{connection_id}/unmatched", response=list[UnmatchedOut],
            summary="Channel variants the first sync could not match, with the reason")
def list_unmatched(request: HttpRequest, connection_id: str) -> list[dict[str, Any]]:
    who = require(request, Perm.MANAGE_CHANNELS)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    return [{**{f: getattr(u, f) for f in ("id", "sku", "title", "reason", "external_product_id",
                                            "external_variant_id", "inventory_item_id",
                                            "channel_quantity", "seen_at")},
             "price": from_minor(u.price_minor, currency)}
            for u in mapping.unmatched_list(workspace_id=who.workspace_id,
                                            connection_id=connection_id)]


@router.post("/{connection_id}/unmatched/{unmatched_id}/map", response={201: ListingOut},
             summary="List a hub variant (by SKU) as this unmatched channel variant")
def map_unmatched(request: HttpRequest, connection_id: str, unmatched_id: str,
                  payload: MapIn) -> Status:
    who = require(request, Perm.MANAGE_CHANNELS)
    listing = mapping.unmatched_map(workspace_id=who.workspace_id, connection_id=connection_id,
                                    unmatched_id=unmatched_id, sku=payload.sku, actor=who.actor)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    listing = listings_of_connection(workspace_id=who.workspace_id,
                                     connection_id=listing.connection_id,
                                     listing_id=listing.id)[0]
    return Status(201, _listing_out(listing, currency))


@router.post("/{connection_id}/unmatched/{unmatched_id}/create", response={201: ListingOut},
             summary="Create this unmatched channel variant in the hub (under a SKU) and list it")
def create_unmatched(request: HttpRequest, connection_id: str, unmatched_id: str,
                     payload: MapIn) -> Status:
    who = require(request, Perm.MANAGE_CHANNELS)
    listing = mapping.unmatched_create(workspace_id=who.workspace_id,
                                       connection_id=connection_id, unmatched_id=unmatched_id,
                                       sku=payload.sku, actor=who.actor)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    return Status(201, _listing_out(listing, currency))
