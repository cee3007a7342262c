"""Connections to sales channels and the engine's own tables: the inbox of webhook events,
the outbox of quantity pushes, reconciliation cursors, location mappings and the versions of
the channel's products already applied.

Credentials are secrets: encrypted, never logged or shown. Raw webhook payloads carry buyers'
personal data (names, addresses, emails): encrypted, read only in an audited scope, and kept
``WEBHOOK_RETENTION_DAYS`` (the privacy engine's retention job enforces it).
"""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel
from storesync.security.fields import EncryptedField

WEBHOOK_PAYLOAD_CATEGORY = "user.channel.webhook_payload"
WEBHOOK_RETENTION_DAYS = 30


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    AMAZON = "amazon", "Amazon SP-API"
    EBAY = "ebay", "eBay"


class Connection(TenantModel):
    """One shop on one platform, and the state of its sync (health, throttling, lease)."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    name = models.CharField(max_length=100)
    # JSON of the platform's credentials (access token, consumer key and secret, ...).
    credentials = EncryptedField(category="system.credentials", personal=False)
    webhook_secret = EncryptedField(category="system.credentials", personal=False)
    # Units of every listing held back from this channel unless the listing sets its own.
    safety_buffer = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    throttled_until = models.DateTimeField(null=True, blank=True)
    # One dispatcher at a time: a lease taken by a conditional UPDATE. It expires on its own,
    # so a worker killed mid-drain delays the next drain by at most the lease, never blocks it.
    dispatch_lease_until = models.DateTimeField(null=True, blank=True)
    dispatch_lease_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="connection_name")
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.name}"


class LocationMapping(TenantModel):
    """Which hub locations feed one channel location's quantity. A connection without any
    mapping sells the stock of every active hub location (the single-warehouse shop)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="location_mappings")
    channel_location_id = models.CharField(max_length=255)
    location = models.ForeignKey("inventory.Location", on_delete=models.CASCADE,
                                 related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "channel_location_id", "location"],
                                    name="location_mapping_unique")
        ]


class InboxState(models.TextChoices):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    # Kept for a consumer that is not built yet (privacy requests): never dropped.
    HELD = "held"
    # Read and deliberately not applied (a catalog change older than one already applied);
    # ``error`` says why.
    SKIPPED = "skipped"


class InboxEvent(TenantModel):
    """A verified webhook, stored once per (connection, platform event id)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="inbox_events")
    event_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=64)
    platform_topic = models.CharField(max_length=128)
    resource_id = models.CharField(max_length=255, blank=True)
    payload = EncryptedField(category=WEBHOOK_PAYLOAD_CATEGORY)
    state = models.CharField(max_length=10, choices=InboxState.choices,
                             default=InboxState.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "event_id"], name="inbox_event_once")
        ]
        indexes = [models.Index(fields=["workspace", "state", "received_at"])]

    def data_subject(self) -> tuple[str, str]:
        return ("channel_event", str(self.pk))


class OutboxState(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxKind(models.TextChoices):
    QUANTITY = "quantity"
    FULFILLMENT = "fulfillment"


class OutboxItem(TenantModel):
    """Something to tell the channel. ``quantity``: "the stock of this listing changed"; the
    quantity is computed when sent, so many rows of one listing coalesce into one push of the
    latest value. ``fulfillment``: "this shipment of the channel's order left", pushed once
    with its lines and tracking. A row is marked done only after its push succeeded; both
    kinds share the backoff, the dead letters and their replay."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=12, choices=OutboxKind.choices,
                            default=OutboxKind.QUANTITY)
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+",
                                null=True, blank=True)
    fulfillment = models.ForeignKey("orders.Fulfillment", on_delete=models.CASCADE,
                                    related_name="+", null=True, blank=True)
    # The channel's id of what the push created (a fulfillment id), once done.
    external_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=8, choices=OutboxState.choices,
                             default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="quantity", listing__isnull=False)
                           | models.Q(kind="fulfillment", fulfillment__isnull=False)),
                name="outbox_item_subject"),
        ]
        indexes = [
            models.Index(fields=["connection", "state", "next_attempt_at"]),  # a drain
            models.Index(fields=["state", "next_attempt_at"]),  # the sweep and /metrics
        ]

    @property
    def subject(self) -> str:
        """What the row pushes, in words: the listing's SKU, or the shipment's number."""
        if self.listing_id is not None and self.listing is not None:
            return str(self.listing.variant.sku)
        if self.fulfillment is not None:
            return f"shipment {self.fulfillment.order.display_name}.{self.fulfillment.number}"
        return self.kind


class SyncCursor(TenantModel):
    """Where reconciliation stopped, per connection and stream ("orders")."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=32)
    cursor = models.CharField(max_length=1000, blank=True)
    # The high-water mark: the newest ``updated_at`` applied; the next run starts there.
    updated_since = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # One run per connection and stream at a time; expires by itself if a worker dies.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set by a run that found the lease held: the holder runs once more before it stops.
    rerun_requested = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "stream"], name="sync_cursor_stream")
        ]


class UnmatchedVariant(TenantModel):
    """A channel variant the first sync could not tie to a hub variant, and why: its SKU is
    unknown to the hub, it has none, or several channel variants share it. Shown on the
    connection's mapping screen until someone maps it (a listing is then created) or the next
    first sync finds it matched."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="unmatched_variants")
    external_product_id = models.CharField(max_length=255)
    external_variant_id = models.CharField(max_length=255)
    inventory_item_id = models.CharField(max_length=255)
    channel_location_id = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    # What creating it in the hub starts from: the channel's price and available quantity.
    price_minor = models.BigIntegerField(default=0)
    channel_quantity = models.IntegerField(default=0)
    reason = models.CharField(max_length=200)
    seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_variant_id"],
                                    name="unmatched_variant_once")
        ]


class CatalogVersion(TenantModel):
    """The channel's own change time of the newest catalog event applied for one of its
    products, or for one WooCommerce variation (whose body arrives on its own):
    ``external_id`` is the product's (or variation's) id on the channel. Webhooks can arrive
    out of order; one dated before this is skipped rather than applied over the newer state.
    Kept when the product is deleted, so a late update of it stays recognisably old."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"],
                                    name="catalog_version_once")
        ]


class OrderCustomer(TenantModel):
    """The platform's customer id of a channel order's buyer: how an erasure or correction
    addresses the right customer on that platform. Pseudonymous (an id, no contact data);
    deleted with the order or the connection."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    external_customer_id = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["connection", "external_customer_id"])]


class ErasureTarget(TenantModel):
    """What one connection must erase for one privacy request, captured inside the local
    erasure's transaction (before the subject's emails are gone) and deleted as soon as the
    channel confirmed. ``email`` is kept only when no platform customer id is known, so the
    platform can be searched; it lives no longer than the propagation."""

    request_id = models.UUIDField()
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    customer_ids = models.JSONField(default=list)
    order_ids = models.JSONField(default=list)  # the orders' external ids on the platform
    email = EncryptedField(category="user.contact.email", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request_id", "connection"],
                                               name="erasure_target_once")]

    def data_subject(self) -> tuple[str, str]:
        return ("privacy_request", str(self.request_id))


class ConsentHold(TenantModel):
    """A platform customer's marketing consent that a restriction switched off (GDPR Art. 18,
    told per Art. 19), kept so that lifting the restriction gives back exactly what it took:
    the platform's own state and opt-in level, and when the platform recorded the switch-off
    (a consent changed there since is left alone). Deleted once given back, once the lift
    found the consent ledger no longer grants marketing, or when the subject is erased."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=100)  # the platform's customer id
    channel = models.CharField(max_length=8)  # email | sms
    state = models.CharField(max_length=20)  # the platform's state before, e.g. SUBSCRIBED
    opt_in_level = models.CharField(max_length=20, blank=True)
    changed_at = models.CharField(max_length=40, blank=True)  # the platform's timestamp
    request_id = models.UUIDField()  # the restriction that switched it off
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "customer_id", "channel"],
                                               name="consent_hold_once")]
