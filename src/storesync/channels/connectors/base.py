"""What storesync needs from a sales channel, whatever the platform.

Shopify, WooCommerce, Amazon SP-API and eBay each implement ``Connector``. Connectors speak
the platform's protocol and translate to and from the small, platform-neutral records below;
they never touch the database. The channel engine (``storesync.channels``: inbox, outbox,
dispatcher, reconciliation) calls them and applies what they return through the domain
services. Money crosses this boundary in integer minor units (``core.money``), times as aware
datetimes, and every id the platform gives is kept as an opaque string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``: ``total`` is None while the platform has not said."""


# --- errors --------------------------------------------------------------------------------

class ChannelError(Exception):
    """A call to the platform failed. ``retryable`` decides between backoff and dead letter."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Throttled(ChannelError):
    """The platform refused for rate (HTTP 429, Shopify ``THROTTLED``). Wait, then retry."""

    def __init__(self, message: str, *, retry_after_s: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after_s = retry_after_s


class AuthFailed(ChannelError):
    """Credentials refused (401/403) or the app was uninstalled: retrying will not help."""

    retryable = False


class Rejected(ChannelError):
    """The platform refused this input (a 4xx validation error): retrying will not help."""

    retryable = False


class InvalidWebhook(Exception):
    """A webhook that must not be stored. ``status``: 401 bad signature, 400 malformed."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- records -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShopInfo:
    """What a credentials check learns about the shop."""

    name: str
    domain: str
    currency: str
    plan: str = ""


@dataclass(frozen=True)
class ChannelVariant:
    external_id: str
    # The id the platform's stock calls take (Shopify: InventoryItem gid; WooCommerce: the
    # product or variation id). Quantity pushes address this, never the SKU.
    inventory_item_id: str
    sku: str
    title: str = ""
    options: tuple[str, ...] = ()
    barcode: str = ""
    price_minor: int = 0
    compare_at_minor: int | None = None
    weight_grams: int | None = None
    hsn_code: str = ""
    tracked: bool = True
    # When the platform dates the variant itself (a WooCommerce variation, saved on its own):
    # the catalog events keep the newest one applied and skip an older one arriving late.
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ChannelProduct:
    external_id: str
    title: str
    handle: str = ""
    description: str = ""
    vendor: str = ""
    product_type: str = ""
    status: str = "active"  # draft | active | archived
    tags: tuple[str, ...] = ()
    option_names: tuple[str, ...] = ()
    variants: tuple[ChannelVariant, ...] = ()
    updated_at: datetime | None = None
    # False when ``variants`` holds only what the body named (a WooCommerce variation body):
    # the product's other variants are not gone, just not said.
    complete: bool = True
    # The stock the body carried with the product (a WooCommerce product or variation body
    # is also its stock event): recorded like a stock-level event once the product is applied.
    levels: tuple[ChannelLevel, ...] = ()


@dataclass(frozen=True)
class ChannelLevel:
    """The quantity the channel shows for one inventory item at one of its locations."""

    inventory_item_id: str
    location_id: str
    available: int
    sku: str = ""


@dataclass(frozen=True)
class ChannelAddress:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    postcode: str = ""
    province_code: str = ""
    country_code: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ChannelOrderLine:
    external_id: str
    sku: str
    quantity: int
    unit_price_minor: int
    title: str = ""
    variant_external_id: str = ""
    discount_minor: int = 0
    hsn_code: str = ""


@dataclass(frozen=True)
class ChannelRefundLine:
    line_external_id: str
    quantity: int
    restock: bool


@dataclass(frozen=True)
class ChannelRefund:
    external_id: str
    created_at: datetime
    amount_minor: int
    lines: tuple[ChannelRefundLine, ...] = ()
    # The order it belongs to, when the refund arrives on its own (a refunds/create body).
    order_external_id: str = ""


@dataclass(frozen=True)
class ChannelPayment:
    kind: str  # sale | authorization | capture | refund | void
    amount_minor: int
    gateway: str = ""
    card_brand: str = ""
    card_last4: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class ChannelOrder:
    """An order as the channel has it now. ``updated_at`` orders versions of the same order:
    an older one never overwrites a newer one."""

    external_id: str
    name: str  # the number the buyer sees: "#1001"
    created_at: datetime
    updated_at: datetime
    currency: str
    lines: tuple[ChannelOrderLine, ...]
    email: str = ""
    customer_external_id: str = ""
    shipping_address: ChannelAddress = field(default_factory=ChannelAddress)
    shipping_minor: int = 0
    financial_status: str = "pending"
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    refunds: tuple[ChannelRefund, ...] = ()
    payments: tuple[ChannelPayment, ...] = ()
    buyer_gstin: str = ""
    location_id: str = ""  # the channel location it should ship from, when the channel says


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[ChannelOrder, ...]
    # Opaque; stored per connection and passed back to continue. None: nothing more for now.
    next_cursor: str | None


@dataclass(frozen=True)
class QuantityUpdate:
    """Set the channel's available quantity of one item at one location.

    ``expected`` is the quantity storesync last saw on the channel (compare-and-set: the push
    fails as ``stale`` when the channel has moved since, e.g. sold a unit; Shopify's
    ``changeFromQuantity``). None: set unconditionally (platforms without compare-and-set).
    """

    inventory_item_id: str
    location_id: str
    quantity: int
    expected: int | None = None
    sku: str = ""


class PushOutcome(StrEnum):
    OK = "ok"
    STALE = "stale"  # compare-and-set failed: re-read the channel, recompute, push again
    FAILED = "failed"


@dataclass(frozen=True)
class PushResult:
    update: QuantityUpdate
    outcome: PushOutcome
    # After OK: the quantity now on the channel. After STALE: what the channel has instead,
    # when the platform says.
    channel_quantity: int | None = None
    error: str = ""
    retryable: bool = True


@dataclass(frozen=True)
class FulfillmentPush:
    order_external_id: str
    # (channel line id, quantity); empty = every remaining line
    lines: tuple[tuple[str, int], ...]
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    notify_customer: bool = True
    location_id: str = ""


@dataclass(frozen=True)
class CustomerRef:
    """One data subject as a platform knows them, for erasure and correction.

    ``customer_ids``: the platform's customer ids seen on the subject's orders there;
    ``order_ids``: those orders' external ids (guest orders have no customer); ``email``: only
    when no customer id is known, to look the customer up where the platform documents a
    search by email."""

    customer_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    email: str = ""


@dataclass(frozen=True)
class ContactCorrection:
    """Corrected contact fields to push; None leaves a field as the platform has it."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None

    def changed(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PrivacyResult:
    """What the platform did. ``acted_on``: customers or orders changed there (0 when the
    platform did not know the subject: nothing to erase is still a success); ``note`` says
    it in words for the request page."""

    acted_on: int
    note: str = ""


@dataclass(frozen=True)
class MarketingConsent:
    """One marketing channel's consent of a platform customer, as the platform names it:
    what a restriction switched off there, given back when it is lifted."""

    customer_id: str  # the platform's customer id
    channel: str  # "email" | "sms"
    state: str  # the platform's state before the restriction, e.g. SUBSCRIBED
    opt_in_level: str = ""
    # When the platform recorded the switch-off, in its own words: a consent changed there
    # since (by the person or the shop's staff) is theirs and is not given back over it.
    changed_at: str = ""


@dataclass(frozen=True)
class ProcessingRestriction:
    """What the hub restricts for one data subject now, to mirror on a platform (GDPR
    Art. 18/19). ``flags``: restricted / objected / do_not_sell, none when a restriction was
    lifted; ``uses``: what they exclude (marketing, analytics, sync_personal_fields,
    sale_or_sharing); ``restore``: consents the platform had before the restriction switched
    them off, to give back now that marketing is no longer restricted and the consent ledger
    still grants it (empty otherwise); ``reference``: the privacy request, for the record the
    platform keeps."""

    flags: tuple[str, ...]
    uses: tuple[str, ...]
    reference: str
    restore: tuple[MarketingConsent, ...] = ()

    @property
    def marketing(self) -> bool:
        return "marketing" in self.uses


@dataclass(frozen=True)
class RestrictionResult(PrivacyResult):
    """``PrivacyResult`` plus the consents switched off (to keep for the lift) and those
    given back."""

    held: tuple[MarketingConsent, ...] = ()
    restored: tuple[MarketingConsent, ...] = ()


class Topic(StrEnum):
    """Platform-neutral webhook topics the engine acts on."""

    ORDER_CREATED = "order.created"
    ORDER_UPDATED = "order.updated"
    ORDER_CANCELLED = "order.cancelled"
    REFUND_CREATED = "refund.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    INVENTORY_UPDATED = "inventory.updated"
    APP_UNINSTALLED = "app.uninstalled"
    # Privacy: handed to the privacy engine, never dropped.
    CUSTOMER_DATA_REQUEST = "privacy.customer_data_request"
    CUSTOMER_REDACT = "privacy.customer_redact"
    SHOP_REDACT = "privacy.shop_redact"
    PING = "ping"  # e.g. WooCommerce's delivery test; acknowledged, not stored as an event


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook. ``event_id`` is the platform's delivery/event id: the dedupe key."""

    event_id: str
    topic: Topic
    platform_topic: str  # as the platform names it: "orders/create", "order.created"
    payload: Mapping[str, Any]
    occurred_at: datetime | None = None
    resource_id: str = ""


@dataclass(frozen=True)
class Subscription:
    """A webhook subscription registered on the platform."""

    external_id: str
    platform_topic: str
    address: str
    active: bool


# --- the protocol ----------------------------------------------------------------------------

@runtime_checkable
class Connector(Protocol):
    """One platform. Built by ``registry.connector_for(connection)``; cheap to construct (no
    network until a method is called). Every network method raises ``ChannelError``
    subclasses, never httpx's, so the engine can decide between retry and dead letter."""

    platform: ClassVar[str]
    # The documented maximum of quantity updates per call (Shopify 250, WooCommerce 100).
    max_quantity_batch: ClassVar[int]
    # The platform-neutral topics this connector subscribes to.
    topics: ClassVar[tuple[Topic, ...]]

    def verify_credentials(self) -> ShopInfo:
        """Call the platform once; ``AuthFailed`` when the credentials are refused."""
        ...

    def import_catalog(self, *, progress: Progress | None = None) -> Iterator[ChannelProduct]:
        """Every product with its variants, page by page (bulk operation where the platform
        has one)."""
        ...

    def fetch_levels(self, inventory_item_ids: Sequence[str]) -> list[ChannelLevel]:
        """The channel's current available quantities of these items at every location."""
        ...

    def import_orders(self, *, updated_since: datetime | None,
                      cursor: str | None) -> OrderPage:
        """Orders created or updated since ``updated_since``, one page; pass ``next_cursor``
        back to continue. Reconciliation polls this with a per-connection cursor."""
        ...

    def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[PushResult]:
        """Set quantities, at most ``max_quantity_batch`` per call; one result per update."""
        ...

    def push_fulfillment(self, fulfillment: FulfillmentPush) -> str:
        """Record a shipment on the channel; returns the channel's fulfillment id."""
        ...

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes,
                       secret: str) -> WebhookEvent:
        """Check the signature over the raw body and parse it; ``InvalidWebhook`` if not."""
        ...

    def parse_event(self, event: WebhookEvent
                    ) -> ChannelOrder | ChannelProduct | ChannelLevel | ChannelRefund | None:
        """The record a verified event carries, read the way ``import_orders`` and
        ``fetch_levels`` read them (the connector may call the platform when the body is not
        enough). None for topics that carry no record (deletions, uninstall, privacy
        requests); ``InvalidWebhook`` or ``ChannelError`` when the body cannot be read, and
        the engine then reconciles instead (a product event whose platform read failed
        retryably is retried: nothing reconciles the catalog)."""
        ...

    def erase_customer(self, subject: CustomerRef) -> PrivacyResult:
        """Erase (or anonymise) the subject's personal data on the platform, with the
        platform's own mechanism (Shopify: ``customerRequestDataErasure``; WooCommerce: the
        orders' billing and shipping anonymised as core's eraser does, the account deleted).
        Idempotent: an already erased or unknown customer is a success. ``ChannelError`` when
        the platform refuses."""
        ...

    def correct_customer(self, subject: CustomerRef,
                         correction: ContactCorrection) -> PrivacyResult:
        """Push corrected contact fields to the platform's customer record(s)."""
        ...

    def restrict_customer(self, subject: CustomerRef,
                          restriction: ProcessingRestriction) -> RestrictionResult:
        """Make the platform reflect ``restriction`` for the subject, with what the platform
        actually has (Shopify: marketing consent and customer tags; WooCommerce: customer
        meta and private order notes only) and say in ``note`` exactly that, never more.
        Idempotent: called again with the same restriction it changes nothing. An unknown
        customer is a success with a note; ``ChannelError`` when the platform refuses."""
        ...

    def list_subscriptions(self) -> list[Subscription]:
        """The webhook subscriptions the platform has for this app."""
        ...

    def ensure_subscriptions(self, *, address: str) -> list[Subscription]:
        """Register (or re-activate) a subscription per topic pointing at ``address``; a
        platform that disabled or deleted one after failed deliveries gets it back."""
        ...
