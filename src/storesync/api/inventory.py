"""``/api/v1/locations`` and ``/api/v1/inventory``: where stock is, and every change to it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.schemas import Strict
from storesync.core.errors import ValidationError
from storesync.core.permissions import Perm
from storesync.inventory import selectors, services
from storesync.inventory.models import Level, Location, Movement

router = Router(tags=["inventory"])


class LocationIn(Strict):
    name: str = Field(max_length=100)
    kind: str = "warehouse"
    address_line1: str = Field("", max_length=255)
    city: str = Field("", max_length=100)
    postcode: str = Field("", max_length=16)
    province_code: str = Field("", max_length=8)
    country_code: str = Field("IN", min_length=2, max_length=2)
    gstin: str = Field("", max_length=15)


class LocationOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    city: str
    province_code: str
    country_code: str
    is_active: bool


class LocationPatch(Strict):
    name: str | None = Field(None, max_length=100)
    kind: str | None = None
    address_line1: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=100)
    postcode: str | None = Field(None, max_length=16)
    province_code: str | None = Field(None, max_length=8)
    country_code: str | None = Field(None, min_length=2, max_length=2)
    gstin: str | None = Field(None, max_length=15)
    is_active: bool | None = Field(None, description="false deactivates: its stock stops "
                                   "counting as available to sell")


class LevelOut(Schema):
    id: uuid.UUID
    variant_id: uuid.UUID
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    safety_buffer: int
    available: int
    low_stock_threshold: int | None
    version: int


class LevelPatch(Strict):
    low_stock_threshold: int | None = Field(
        ge=0, le=10_000_000, description="warn at or below this many available; null: never")


class LowStockOut(Schema):
    level_id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    location_id: uuid.UUID
    location: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int
    shortfall: int


class MovementOut(Schema):
    id: uuid.UUID
    kind: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    reference: str
    created_at: datetime


class ReceiveIn(Strict):
    variant_id: uuid.UUID
    location_id: uuid.UUID
    quantity: int = Field(gt=0, le=10_000_000)
    reason: str = Field("received", max_length=255)


class AdjustIn(Strict):
    variant_id: uuid.UUID
    location_id: uuid.UUID
    delta: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(max_length=255)
    allow_negative: bool = False


class TransferIn(Strict):
    variant_id: uuid.UUID
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    quantity: int = Field(gt=0, le=10_000_000)


def _level_out(level: Level) -> dict[str, Any]:
    return {"id": level.id, "variant_id": level.variant_id, "location_id": level.location_id,
            "on_hand": level.on_hand, "reserved": level.reserved,
            "safety_buffer": level.safety_buffer, "available": level.available,
            "low_stock_threshold": level.low_stock_threshold, "version": level.version}


def _movement_out(movement: Movement) -> dict[str, Any]:
    return {f: getattr(movement, f) for f in MovementOut.model_fields}


@router.post("/locations", response={201: LocationOut}, summary="Add a location")
def create_location(request: HttpRequest, payload: LocationIn) -> Status:
    who = require(request, Perm.MANAGE_INVENTORY)
    data = payload.model_dump()
    location: Location = services.location_create(
        workspace_id=who.workspace_id, actor=who.actor, name=data.pop("name"),
        kind=data.pop("kind"), **data)
    return Status(201, location)


@router.get("/locations", response=list[LocationOut], summary="Every location, by name")
def list_locations(request: HttpRequest) -> list[Location]:
    who = require(request, Perm.VIEW_ORDERS)
    return selectors.location_list(workspace_id=who.workspace_id)


@router.patch("/locations/{location_id}", response=LocationOut,
              summary="Rename, re-address, deactivate or reactivate a location")
def update_location(request: HttpRequest, location_id: str,
                    payload: LocationPatch) -> Location:
    who = require(request, Perm.MANAGE_INVENTORY)
    location = selectors.location_get(workspace_id=who.workspace_id, location_id=location_id)
    changes = payload.model_dump(exclude_unset=True)
    if not changes or any(v is None for v in changes.values()):
        raise ValidationError("send the fields to change, with values", field="body")
    active = changes.pop("is_active", None)
    if changes:
        location = services.location_update(workspace_id=who.workspace_id,
                                            location_id=location.id, changes=changes,
                                            actor=who.actor)
    if active is not None:
        location = services.location_set_active(workspace_id=who.workspace_id,
                                                location_id=location.id, active=active,
                                                actor=who.actor)
    return location


@router.patch("/levels/{level_id}", response=LevelOut,
              summary="Set a level's low-stock threshold (null turns the warning off)")
def update_level(request: HttpRequest, level_id: str, payload: LevelPatch) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_INVENTORY)
    level = selectors.level_get(workspace_id=who.workspace_id, level_id=level_id)
    fresh = services.level_configure(workspace_id=who.workspace_id, level_id=level.id,
                                     low_stock_threshold=payload.low_stock_threshold,
                                     actor=who.actor)
    return _level_out(fresh)


@router.get("/low-stock", response=list[LowStockOut],
            summary="Levels whose available stock is at or below their threshold, "
                    "largest shortfall first")
def low_stock(request: HttpRequest, location_id: uuid.UUID | None = None,
              limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    who = require(request, Perm.VIEW_ORDERS)
    levels = selectors.low_stock(workspace_id=who.workspace_id, limit=limit,
                                 location_id=location_id)
    return [{"level_id": lv.id, "variant_id": lv.variant_id, "sku": lv.variant.sku,
             "location_id": lv.location_id, "location": lv.location.name,
             "on_hand": lv.on_hand, "reserved": lv.reserved, "available": lv.available,
             "low_stock_threshold": lv.low_stock_threshold,
             "shortfall": lv.shortfall} for lv in levels]  # type: ignore[attr-defined]


@router.get("/levels", response=list[LevelOut], summary="Stock of a variant at every location")
def list_levels(request: HttpRequest, variant_id: uuid.UUID = Query(...)) -> list[dict[str, Any]]:
    who = require(request, Perm.VIEW_ORDERS)
    return [_level_out(level) for level in
            selectors.levels_of_variant(workspace_id=who.workspace_id, variant_id=variant_id)]


@router.post("/receive", response={201: MovementOut}, summary="Receive stock")
def receive(request: HttpRequest, payload: ReceiveIn) -> Status:
    who = require(request, Perm.MANAGE_INVENTORY)
    movement = services.stock_receive(workspace_id=who.workspace_id, actor=who.actor,
                                      **payload.model_dump())
    return Status(201, _movement_out(movement))


@router.post("/adjust", response={201: MovementOut},
             summary="Correct on-hand stock (negative only with allow_negative, audited)")
def adjust(request: HttpRequest, payload: AdjustIn) -> Status:
    who = require(request, Perm.MANAGE_INVENTORY)
    movement = services.stock_adjust(workspace_id=who.workspace_id, actor=who.actor,
                                     **payload.model_dump())
    return Status(201, _movement_out(movement))


@router.post("/transfer", response={201: list[MovementOut]},
             summary="Move free stock between two locations")
def transfer(request: HttpRequest, payload: TransferIn) -> Status:
    who = require(request, Perm.MANAGE_INVENTORY)
    moves = services.stock_transfer(workspace_id=who.workspace_id, actor=who.actor,
                                    **payload.model_dump())
    return Status(201, [_movement_out(m) for m in moves])
