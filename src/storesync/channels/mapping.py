"""The mapping screen's reads and writes: channel variants a first sync could not match, tied
to a hub variant by hand (a listing is created), and the connection's first-sync jobs."""

from __future__ import annotations

import uuid

from django.db import transaction

from storesync.catalog.listings import ListingInput
from storesync.catalog.models import Listing, Variant
from storesync.channels.connectors.base import ChannelProduct, ChannelVariant
from storesync.channels.initial import JOB_KIND, create_listed
from storesync.channels.models import Connection, InboxEvent, InboxState, UnmatchedVariant
from storesync.channels.services import listing_add
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.jobs import job_list
from storesync.core.models import Job
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

JOBS_SHOWN = 20


def unmatched_list(*, workspace_id: uuid.UUID,
                   connection_id: uuid.UUID | str) -> list[UnmatchedVariant]:
    """The connection's unmatched channel variants, by SKU (variants without one first)."""
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id):
        if not Connection.objects.filter(id=cid).exists():
            raise NotFound("no such connection")
        return list(UnmatchedVariant.objects.filter(connection_id=cid).order_by("sku", "id"))


def unmatched_map(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                  unmatched_id: uuid.UUID | str, sku: str, actor: audit.Actor) -> Listing:
    """List the hub variant with ``sku`` as this channel variant (its first push follows) and
    drop it from the unmatched list, in one transaction. The SKUs need not agree: this is how
    a channel variant with a different, duplicate or missing SKU is tied to the hub's."""
    cid = parse_id(connection_id, what="connection")
    uid = parse_id(unmatched_id, what="unmatched variant")
    if not sku.strip():
        raise ValidationError("the hub variant's SKU", field="sku")
    with workspace_scope(workspace_id), transaction.atomic():
        unmatched = (UnmatchedVariant.objects.select_for_update()
                     .filter(id=uid, connection_id=cid).first())
        if unmatched is None:
            raise NotFound("no such unmatched variant (mapped already?)")
        variant = Variant.objects.filter(sku=sku.strip()).first()
        if variant is None:
            raise ValidationError(f"no hub variant has SKU {sku.strip()!r}", field="sku")
        listing = listing_add(workspace_id=workspace_id, actor=actor, data=ListingInput(
            variant_id=variant.id, connection_id=cid,
            external_product_id=unmatched.external_product_id,
            external_variant_id=unmatched.external_variant_id,
            inventory_item_id=unmatched.inventory_item_id,
            channel_location_id=unmatched.channel_location_id))
        _audit_linked(workspace_id, actor, listing, unmatched, how="mapped")
        unmatched.delete()
    return listing


def _audit_linked(workspace_id: uuid.UUID, actor: audit.Actor, listing: Listing,
                  unmatched: UnmatchedVariant, *, how: str) -> None:
    audit.record(action=audit.Action.LISTING_LINKED, actor=actor, workspace_id=workspace_id,
                 subject_type="listing", subject_id=listing.id,
                 detail={"connection_id": str(listing.connection_id), "how": how,
                         "sku": listing.variant.sku, "channel_sku": unmatched.sku,
                         "external_variant_id": unmatched.external_variant_id})


def unmatched_create(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                     unmatched_id: uuid.UUID | str, sku: str, actor: audit.Actor) -> Listing:
    """Create the channel variant in the hub as a product of its own under ``sku`` (the
    channel's SKU, or a new one for a variant without or sharing one), with the channel's
    price and quantity, and list it; drop it from the unmatched list. All or nothing."""
    cid = parse_id(connection_id, what="connection")
    uid = parse_id(unmatched_id, what="unmatched variant")
    with workspace_scope(workspace_id), transaction.atomic():
        connection = Connection.objects.filter(id=cid).first()
        unmatched = (UnmatchedVariant.objects.select_for_update()
                     .filter(id=uid, connection_id=cid).first())
        if connection is None or unmatched is None:
            raise NotFound("no such unmatched variant (mapped already?)")
        if Variant.objects.filter(sku=sku.strip()).exists():
            raise Conflict(f"a hub variant has SKU {sku.strip()!r} already: map it instead",
                           field="sku")
        variant = ChannelVariant(external_id=unmatched.external_variant_id,
                                 inventory_item_id=unmatched.inventory_item_id,
                                 sku=sku.strip(), price_minor=unmatched.price_minor)
        product = ChannelProduct(external_id=unmatched.external_product_id,
                                 title=unmatched.title or sku.strip(), variants=(variant,))
        try:
            create_listed(connection, product, {unmatched.inventory_item_id: (
                unmatched.channel_location_id, unmatched.channel_quantity)}, actor)
        except ValidationError as exc:  # the SKU the person typed: name the form's field
            raise ValidationError(exc.message, field="sku") from None
        listing = Listing.objects.select_related("variant").get(
            connection_id=cid, external_variant_id=unmatched.external_variant_id)
        _audit_linked(workspace_id, actor, listing, unmatched, how="created")
        unmatched.delete()
        return listing


def variant_search(*, workspace_id: uuid.UUID, query: str, limit: int = 20) -> list[Variant]:
    """Hub variants whose SKU contains ``query`` (case-insensitive), for the mapping form."""
    if not query.strip():
        return []
    with workspace_scope(workspace_id):
        return list(Variant.objects.filter(sku__icontains=query.strip())
                    .select_related("product").order_by("sku")[:limit])


def held_requests(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                  limit: int = 50) -> list[InboxEvent]:
    """Privacy requests the channel sent (customer data request, redact, shop redact), kept
    for the privacy engine: topic and arrival only (the payload is personal data)."""
    with workspace_scope(workspace_id):
        return list(InboxEvent.objects.filter(connection_id=connection_id,
                                              state=InboxState.HELD)
                    .only("id", "topic", "platform_topic", "resource_id", "received_at")
                    .order_by("received_at")[:limit])


def connection_jobs(*, workspace_id: uuid.UUID, connection_id: uuid.UUID) -> list[Job]:
    """The connection's first-sync jobs, newest first."""
    page = job_list(workspace_id=workspace_id, kinds=[JOB_KIND], limit=100)
    return [job for job in page.items
            if job.params.get("connection_id") == str(connection_id)][:JOBS_SHOWN]
