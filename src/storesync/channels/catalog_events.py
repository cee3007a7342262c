"""A channel's catalog webhooks applied to the listing mapping, the hub owning catalog and stock.

A product changed on the channel (Shopify ``products/update``/``products/create``), a product
deleted there (``products/delete``, WooCommerce ``product.deleted``), or an item whose SKU
changed (a WooCommerce product or variation body) changes which hub variant each channel
variant is tied to, by the rules of the first sync (``channels.initial``):

- a channel variant the hub does not list yet is matched by SKU and listed (its first push
  follows, so the channel shows the hub's quantity); no SKU, a SKU the hub lacks, or a SKU
  another listed channel variant already has becomes an ``UnmatchedVariant`` for the mapping
  screen. Nothing is created in the hub and no variant is ever duplicated;
- a listed variant whose SKU changed is matched again (its old listing is unlinked);
- a listed variant or product that is gone is unlinked (the listing is deleted with its
  pending pushes: there is nothing left to push to) and the unlinking is recorded in the audit
  log with the reason, so a person can see what happened and why.

The channel's own stock number is never taken: listing (or re-listing) queues a push of the
hub's quantity, and stock-level events keep correcting the channel (``inbox._record_level``).
Everything runs in the inbox event's transaction; no network.
"""

from __future__ import annotations

from collections import Counter

from storesync.catalog.listings import ListingInput, listing_rebind
from storesync.catalog.models import Listing, ListingStatus, Variant
from storesync.channels.connectors.base import ChannelProduct, ChannelVariant
from storesync.channels.initial import DUPLICATE_SKU, NO_SKU, UNKNOWN_SKU
from storesync.channels.models import Connection, UnmatchedVariant
from storesync.channels.services import listing_add, queue_push
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

CATALOG_ACTOR = audit.Actor.system("channel-catalog")
GONE = "deleted on the channel"
SKU_CHANGED = "its SKU changed on the channel"


def _unlink(connection: Connection, listing: Listing, reason: str) -> None:
    audit.record(action=audit.Action.LISTING_UNLINKED, actor=CATALOG_ACTOR,
                 workspace_id=connection.workspace_id, subject_type="listing",
                 subject_id=listing.id,
                 detail={"connection_id": str(connection.id), "sku": listing.variant.sku,
                         "external_variant_id": listing.external_variant_id,
                         "reason": reason})
    listing.delete()


def _unmatched(connection: Connection, *, product_id: str, title: str,
               variant: ChannelVariant, location_id: str, reason: str) -> UnmatchedVariant:
    return UnmatchedVariant(
        workspace_id=connection.workspace_id, connection_id=connection.id,
        external_product_id=product_id[:255], external_variant_id=variant.external_id[:255],
        inventory_item_id=variant.inventory_item_id[:255],
        channel_location_id=location_id[:255], sku=variant.sku[:255],
        title=" / ".join(t for t in (title, variant.title) if t)[:255],
        price_minor=variant.price_minor, reason=reason)


def _link(connection: Connection, variant: Variant, product_id: str,
          item: ChannelVariant, location_id: str) -> Listing:
    listing = listing_add(workspace_id=connection.workspace_id, actor=CATALOG_ACTOR,
                          data=ListingInput(
                              variant_id=variant.id, connection_id=connection.id,
                              external_product_id=product_id,
                              external_variant_id=item.external_id,
                              inventory_item_id=item.inventory_item_id,
                              channel_location_id=location_id))
    audit.record(action=audit.Action.LISTING_LINKED, actor=CATALOG_ACTOR,
                 workspace_id=connection.workspace_id, subject_type="listing",
                 subject_id=listing.id,
                 detail={"connection_id": str(connection.id), "how": "matched by SKU",
                         "sku": variant.sku, "external_variant_id": item.external_id})
    return listing


def _default_location(connection: Connection) -> str:
    """The channel location a new listing addresses: the one its product's other listings
    use, else the one most listings of the connection use ('' lets the connector choose)."""
    locations = Counter(Listing.objects.filter(connection_id=connection.id)
                        .values_list("channel_location_id", flat=True)[:1000])
    return locations.most_common(1)[0][0] if locations else ""


def product_apply(*, connection: Connection, product: ChannelProduct) -> None:
    """Bring the mapping of one channel product in line with what the channel now has (see
    the module docstring). Idempotent: applying the same body twice changes nothing."""
    with workspace_scope(connection.workspace_id):
        listings = list(Listing.objects.select_related("variant").filter(
            connection_id=connection.id, external_product_id=product.external_id))
        by_external = {listing.external_variant_id: listing for listing in listings}
        present = {v.external_id for v in product.variants}
        location = next((lst.channel_location_id for lst in listings),
                        None) or _default_location(connection)
        for listing in listings:
            if listing.external_variant_id not in present:
                _unlink(connection, listing, GONE)
        skus = Counter(v.sku.strip() for v in product.variants if v.sku.strip())
        unmatched: list[UnmatchedVariant] = []
        for item in product.variants:
            reason = _apply_variant(connection, product, item, by_external.get(item.external_id),
                                    location, skus, present)
            if reason:
                unmatched.append(_unmatched(connection, product_id=product.external_id,
                                            title=product.title, variant=item,
                                            location_id=location, reason=reason))
        UnmatchedVariant.objects.filter(connection_id=connection.id,
                                        external_product_id=product.external_id).delete()
        UnmatchedVariant.objects.filter(
            connection_id=connection.id,
            external_variant_id__in=[u.external_variant_id for u in unmatched]).delete()
        UnmatchedVariant.objects.bulk_create(unmatched)


def _apply_variant(connection: Connection, product: ChannelProduct, item: ChannelVariant,
                   listing: Listing | None, location: str, skus: Counter[str],
                   present: set[str]) -> str:
    """Tie one channel variant to the hub; returns why it stays unmatched ('' when tied)."""
    sku = item.sku.strip()
    if listing is not None:
        if listing.variant.sku == sku:
            if listing.inventory_item_id != item.inventory_item_id:
                _rebind(connection, listing, product.external_id, item)
            return ""
        _unlink(connection, listing, SKU_CHANGED)
        location = listing.channel_location_id
    if not sku:
        return NO_SKU
    if skus[sku] > 1:
        return DUPLICATE_SKU
    variant = Variant.objects.filter(sku=sku).first()
    if variant is None:
        return UNKNOWN_SKU
    current = Listing.objects.filter(connection_id=connection.id, variant_id=variant.id).first()
    if current is None:
        _link(connection, variant, product.external_id, item, location)
        return ""
    if (current.external_product_id == product.external_id
            and current.external_variant_id not in present):
        # The channel replaced the variant inside this product: follow it.
        _rebind(connection, current, product.external_id, item)
        return ""
    return DUPLICATE_SKU  # another channel variant is listed under this SKU already


def _rebind(connection: Connection, listing: Listing, product_id: str,
            item: ChannelVariant) -> None:
    rebound = listing_rebind(workspace_id=connection.workspace_id, listing_id=listing.id,
                             actor=CATALOG_ACTOR, data=ListingInput(
                                 variant_id=listing.variant_id, connection_id=connection.id,
                                 external_product_id=product_id,
                                 external_variant_id=item.external_id,
                                 inventory_item_id=item.inventory_item_id,
                                 channel_location_id=listing.channel_location_id))
    if rebound.status == ListingStatus.ACTIVE:
        queue_push(connection.workspace_id, rebound)


def product_removed(*, connection: Connection, resource_id: str) -> int:
    """The channel deleted a product (or a WooCommerce variation, whose resource id is its
    inventory item id): unlink its listings and forget its unmatched variants. Returns how
    many listings were unlinked."""
    if not resource_id:
        return 0
    with workspace_scope(connection.workspace_id):
        gone = list(Listing.objects.select_related("variant").filter(
            connection_id=connection.id, external_product_id=resource_id)) + list(
            Listing.objects.select_related("variant").filter(
                connection_id=connection.id, inventory_item_id=resource_id)
            .exclude(external_product_id=resource_id))
        for listing in gone:
            _unlink(connection, listing, GONE)
        UnmatchedVariant.objects.filter(connection_id=connection.id,
                                        external_product_id=resource_id).delete()
        UnmatchedVariant.objects.filter(connection_id=connection.id,
                                        inventory_item_id=resource_id).delete()
    return len(gone)


def item_sku_seen(*, connection: Connection, inventory_item_id: str, sku: str) -> None:
    """A stock body named the SKU the channel has for this item (WooCommerce sends the
    product or variation): when it is not the listed variant's SKU, match it again."""
    sku = sku.strip()
    with workspace_scope(connection.workspace_id):
        listing = (Listing.objects.select_related("variant")
                   .filter(connection_id=connection.id, inventory_item_id=inventory_item_id)
                   .first())
        if listing is None or not sku or listing.variant.sku == sku:
            return
        item = ChannelVariant(external_id=listing.external_variant_id,
                              inventory_item_id=inventory_item_id, sku=sku)
        product = ChannelProduct(external_id=listing.external_product_id, title="",
                                 variants=(item,))
        reason = _apply_variant(connection, product, item, listing,
                                listing.channel_location_id, Counter([sku]),
                                {item.external_id})
        UnmatchedVariant.objects.filter(connection_id=connection.id,
                                        external_variant_id=item.external_id).delete()
        if reason:
            _unmatched(connection, product_id=product.external_id, title="", variant=item,
                       location_id=listing.channel_location_id, reason=reason).save()
