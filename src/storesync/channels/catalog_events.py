"""A channel's catalog webhooks applied to the listing mapping, the hub owning catalog and stock.

A product created or changed on the channel (Shopify ``products/create``/``products/update``,
WooCommerce ``product.created``/``product.updated``: a simple product, a variable product with
its variations, or one variation) or deleted there (``products/delete``, WooCommerce
``product.deleted``) changes which hub variant each channel variant is tied to, by the rules
of the first sync (``channels.initial``):

- a channel variant the hub does not list yet is matched by SKU and listed (its first push
  follows, so the channel shows the hub's quantity); no SKU, a SKU the hub lacks, or a SKU
  another listed channel variant already has becomes an ``UnmatchedVariant`` for the mapping
  screen. Nothing is created in the hub and no variant is ever duplicated;
- a listed variant whose SKU changed is matched again (its old listing is unlinked);
- a listed variant or product that is gone is unlinked (the listing is deleted with its
  pending pushes: there is nothing left to push to) and the unlinking is recorded in the audit
  log with the reason, so a person can see what happened and why.

A WooCommerce variation body names one variant of its parent (``ChannelProduct.complete``
False): that variant is matched by the same rules, and the parent's other variants are left as
they are (nothing of them is said, so nothing is unlinked).

Webhooks can arrive out of order. The channel's own change time of what was applied is kept
per product (``CatalogVersion``; per variation for a WooCommerce variation body, which is
saved and dated on its own). An event dated before the one applied is not applied: its older
variants and SKUs would replace newer ones. Same-second changes are applied (the platforms
date to the second, so neither can be told older).

The channel's own stock number is never taken: listing (or re-listing) queues a push of the
hub's quantity, and stock-level events keep correcting the channel (``inbox._record_level``).
Everything runs in the inbox event's transaction; no network.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from storesync.catalog.listings import ListingInput, listing_rebind
from storesync.catalog.models import Listing, ListingStatus, Variant
from storesync.channels.connectors.base import ChannelProduct, ChannelVariant
from storesync.channels.initial import DUPLICATE_SKU, NO_SKU, UNKNOWN_SKU
from storesync.channels.models import CatalogVersion, Connection, UnmatchedVariant
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


def product_apply(*, connection: Connection, product: ChannelProduct) -> str:
    """Bring the mapping of one channel product in line with what the channel now has (see
    the module docstring). Idempotent: applying the same body twice changes nothing.
    Returns '' once applied, or why it was not: a newer change of the product is applied
    already (the caller marks the event skipped with that reason)."""
    with workspace_scope(connection.workspace_id):
        stale = _claim_version(connection, product)
        if stale:
            return stale
        listings = list(Listing.objects.select_related("variant").filter(
            connection_id=connection.id, external_product_id=product.external_id))
        by_external = {listing.external_variant_id: listing for listing in listings}
        present = {v.external_id for v in product.variants}
        location = next((lst.channel_location_id for lst in listings),
                        None) or _default_location(connection)
        if product.complete:
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
        if product.complete:
            UnmatchedVariant.objects.filter(connection_id=connection.id,
                                            external_product_id=product.external_id).delete()
        UnmatchedVariant.objects.filter(connection_id=connection.id,
                                        external_variant_id__in=sorted(present)).delete()
        UnmatchedVariant.objects.bulk_create(unmatched)
    return ""


def _versions(product: ChannelProduct) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(channel id -> change time) deciding whether the event is stale, and those applying
    it records. A whole product is judged by its own time; the variants it dates (WooCommerce
    variations, read along with it) are recorded too, so a late body of one of them is
    recognised. A body naming one variation is judged by that variation's time."""
    dated = {v.external_id[:255]: v.updated_at for v in product.variants if v.updated_at}
    if not product.complete:
        return dated, dated
    own = ({product.external_id[:255]: product.updated_at} if product.updated_at else {})
    return own, {**dated, **own}


def _claim_version(connection: Connection, product: ChannelProduct) -> str:
    """Skip (returning why) when a newer change of this product is applied already; else
    record this one's time. The version rows are locked first, in id order, so two events of
    one product apply one after the other (PostgreSQL; SQLite's writers are serial anyway)
    and the second sees the first's time."""
    checked, recorded = _versions(product)
    if not recorded:
        return ""  # the channel sent no date: nothing to compare, applied as it comes
    rows = CatalogVersion.objects.filter(connection_id=connection.id)

    def ensure(versions: dict[str, datetime]) -> None:
        CatalogVersion.objects.bulk_create(
            [CatalogVersion(workspace_id=connection.workspace_id, connection_id=connection.id,
                            external_id=key, updated_at=at)
             for key, at in sorted(versions.items())], ignore_conflicts=True)

    ensure(checked)
    applied = dict(rows.select_for_update().filter(external_id__in=sorted(checked))
                   .order_by("external_id").values_list("external_id", "updated_at"))
    for key, at in sorted(checked.items()):
        if applied[key] > at:
            return (f"stale: this change of {key} on the channel ({at.isoformat()}) is "
                    f"older than its change of {applied[key].isoformat()}, applied already")
    ensure(recorded)
    by_time: dict[datetime, list[str]] = {}
    for key, at in recorded.items():
        by_time.setdefault(at, []).append(key)
    for at, keys in sorted(by_time.items()):  # one UPDATE per distinct time, never backwards
        rows.filter(external_id__in=sorted(keys), updated_at__lt=at).update(updated_at=at)
    return ""


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
