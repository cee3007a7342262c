"""``/api/v1/locations`` and ``/api/v1/inventory``: where stock is, and every change to it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.schemas import Strict
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


class LevelOut(Schema):
    id: uuid.UUID
    variant_id: uuid.UUID
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    safety_buffer: int
    available: int
    version: int


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
            "version": level.version}


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
