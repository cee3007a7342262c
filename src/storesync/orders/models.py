"""Orders from every channel (or created by hand), their lines and payment transactions.

Shapes follow Shopify's Order / LineItem / Transaction so connectors map field for field.
The buyer's contact and shipping address on the order are personal data: encrypted, and read
only through an audited scope like a customer's.
"""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel
from storesync.security.fields import BlindIndexField, EncryptedField


def _normalise_email(value: str) -> str:
    return value.strip().lower()


class FinancialStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfillmentStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled"
    PARTIAL = "partial"
    FULFILLED = "fulfilled"


class ShippingAddress(TenantModel):
    """The buyer's contact and shipping address: personal data, encrypted, audited on read."""

    email = EncryptedField(category="user.contact.email", null=True)
    email_bidx = BlindIndexField(source="email", normaliser=_normalise_email)
    ship_name = EncryptedField(category="user.name", null=True)
    ship_line1 = EncryptedField(category="user.contact.address.street", null=True)
    ship_line2 = EncryptedField(category="user.contact.address.street", null=True)
    ship_city = EncryptedField(category="user.contact.address.city", null=True)
    ship_postcode = EncryptedField(category="user.contact.address.postal_code", null=True)
    ship_phone = EncryptedField(category="user.contact.phone", null=True)
    ship_province_code = models.CharField(max_length=8, blank=True)
    ship_country_code = models.CharField(max_length=2, blank=True)

    class Meta:
        abstract = True


class Order(ShippingAddress):
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=40, blank=True)  # the channel's own name, e.g. "#1042"
    source = models.CharField(max_length=20, default="manual")  # manual, or a platform
    connection = models.ForeignKey("channels.Connection", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    external_id = models.CharField(max_length=100, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="orders")
    buyer_gstin = models.CharField(max_length=15, blank=True)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True)
    subtotal_minor = models.BigIntegerField(default=0)
    discount_minor = models.BigIntegerField(default=0)
    shipping_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    financial_status = models.CharField(max_length=20, choices=FinancialStatus.choices,
                                        default=FinancialStatus.PENDING)
    fulfillment_status = models.CharField(max_length=12, choices=FulfillmentStatus.choices,
                                          default=FulfillmentStatus.UNFULFILLED)
    placed_at = models.DateTimeField(db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=100, blank=True)
    refunded_minor = models.BigIntegerField(default=0)
    # Set when an imported order could not be fully mapped (unknown SKU, oversold, ...):
    # a person has to look; ``attention_reasons`` says why, in words.
    needs_attention = models.BooleanField(default=False)
    attention_reasons = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="order_number"),
            models.UniqueConstraint(fields=["workspace", "source", "external_id"],
                                    condition=~models.Q(external_id=""),
                                    name="order_external_id"),
        ]
        # The order list is newest first by id (keyset pages, ADR 0006): each filter it
        # offers has an index (workspace, <filter>, id), so that any page of it is one index
        # range scan read backwards, whatever the table's size (ADR 0021). A date range
        # reads (workspace, placed_at, id) and sorts the day or week it finds.
        indexes = [models.Index(fields=["workspace", "placed_at", "id"]),
                   models.Index(fields=["workspace", "id"], name="order_ws_id"),
                   models.Index(fields=["workspace", "source", "id"], name="order_ws_source_id"),
                   models.Index(fields=["workspace", "fulfillment_status", "id"],
                                name="order_ws_fulfilment_id"),
                   models.Index(fields=["workspace", "financial_status", "id"],
                                name="order_ws_financial_id"),
                   models.Index(fields=["workspace", "needs_attention", "id"],
                                name="order_ws_attention_id")]

    @property
    def display_name(self) -> str:
        return self.name or f"#{self.number}"

    def data_subject(self) -> tuple[str, str]:
        if self.customer_id:
            return "customer", str(self.customer_id)
        return "order", str(self.pk)


class OrderLine(TenantModel):
    """One ordered item. Its units are either still to ship, shipped (``fulfilled_quantity``)
    or removed before shipping by a refund (``removed_quantity``)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField(max_length=100, blank=True)
    variant = models.ForeignKey("catalog.Variant", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    location = models.ForeignKey("inventory.Location", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    sku = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    hsn_code = models.CharField(max_length=8, blank=True)
    tax_rate_bp = models.PositiveIntegerField(default=0)
    taxable_minor = models.BigIntegerField(default=0)
    cgst_minor = models.BigIntegerField(default=0)
    sgst_minor = models.BigIntegerField(default=0)
    igst_minor = models.BigIntegerField(default=0)
    fulfilled_quantity = models.PositiveIntegerField(default=0)
    removed_quantity = models.PositiveIntegerField(default=0)
    refunded_quantity = models.PositiveIntegerField(default=0)
    restocked_quantity = models.PositiveIntegerField(default=0)  # shipped units back on hand
    # False for an imported line that could not be mapped: no stock was reserved for it.
    holds_stock = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=1)

    @property
    def fulfillable_quantity(self) -> int:
        return self.quantity - self.fulfilled_quantity - self.removed_quantity

    @property
    def reserves(self) -> bool:
        """Whether this line's unshipped units are held in stock (reference ``order:<id>``)."""
        return self.holds_stock and self.variant_id is not None and self.location_id is not None


class Transaction(TenantModel):
    """A payment event. Card data is never stored: brand and last four digits only."""

    class Kind(models.TextChoices):
        SALE = "sale"
        AUTHORIZATION = "authorization"
        CAPTURE = "capture"
        REFUND = "refund"
        VOID = "void"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transactions")
    refund = models.ForeignKey("Refund", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=12, default="success")
    gateway = models.CharField(max_length=50, blank=True)
    amount_minor = models.BigIntegerField()
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    processed_at = models.DateTimeField()


class OrderCounter(TenantModel):
    """The next order number of a workspace (one row, locked while an order is numbered)."""

    next_number = models.PositiveIntegerField(default=1001)
    next_draft_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="order_counter")]


class FulfillmentOrder(TenantModel):
    """What one location has to ship for one order (Shopify's FulfillmentOrder).

    Created with the order, one per location its lines ship from. Its lines are the order's
    lines at that location; what remains is each line's ``fulfillable_quantity``."""

    class Status(models.TextChoices):
        OPEN = "open"
        IN_PROGRESS = "in_progress"
        CLOSED = "closed"
        CANCELLED = "cancelled"

    class ManagedBy(models.TextChoices):
        MERCHANT = "merchant"
        THIRD_PARTY = "third_party"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillment_orders")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT,
                                 related_name="+")
    managed_by = models.CharField(max_length=12, choices=ManagedBy.choices,
                                  default=ManagedBy.MERCHANT)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "location"],
                                               name="fulfillment_order_location")]


class Fulfillment(TenantModel):
    """A shipment: some or all units of a fulfillment order's lines, with tracking."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    fulfillment_order = models.ForeignKey(FulfillmentOrder, on_delete=models.CASCADE,
                                          related_name="fulfillments")
    number = models.PositiveSmallIntegerField()  # 1, 2, ... within the order: "#1001.2"
    status = models.CharField(max_length=12, default="success")
    tracking_company = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "number"],
                                               name="fulfillment_number")]


class FulfillmentLine(TenantModel):
    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()


class Refund(TenantModel):
    """Money back, and optionally units back: lines removed before shipping or restocked."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    external_id = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=255, blank=True)
    amount_minor = models.BigIntegerField(default=0)
    processed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "external_id"],
                                               condition=~models.Q(external_id=""),
                                               name="refund_external_id")]


class RefundLine(TenantModel):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    restock = models.BooleanField(default=False)
    removed_quantity = models.PositiveIntegerField(default=0)  # of them, never shipped
    restocked_quantity = models.PositiveIntegerField(default=0)  # shipped, back on hand


class Return(TenantModel):
    """Shipped units on their way back: requested, then received (restocked or not)."""

    class Status(models.TextChoices):
        REQUESTED = "requested"
        RECEIVED = "received"
        CANCELLED = "cancelled"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    note = models.CharField(max_length=255, blank=True)
    restocked = models.BooleanField(default=False)
    requested_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)


class ReturnLine(TenantModel):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=100, blank=True)


class DraftOrder(ShippingAddress):
    """An order being put together by staff (Shopify's DraftOrder): holds no stock until
    completed, when it becomes an ``Order`` exactly once."""

    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETED = "completed"

    number = models.PositiveIntegerField()  # shown as "#D<number>"
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    location = models.ForeignKey("inventory.Location", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    buyer_gstin = models.CharField(max_length=15, blank=True)
    note = models.CharField(max_length=5000, blank=True)
    currency = models.CharField(max_length=3)
    applied_discount_minor = models.BigIntegerField(default=0)  # spread over the lines
    shipping_minor = models.BigIntegerField(default=0)
    subtotal_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="draft")
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "number"],
                                               name="draft_order_number")]

    def data_subject(self) -> tuple[str, str]:
        if self.customer_id:
            return "customer", str(self.customer_id)
        return "draft_order", str(self.pk)


class DraftOrderLine(TenantModel):
    draft = models.ForeignKey(DraftOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=1)


class AbandonedCheckout(TenantModel):
    """A cart a buyer left at checkout (Shopify's AbandonedCheckout), kept to win it back.

    Its contact is personal data; the privacy engine's retention applies to it. It is marked
    recovered when an order with the same email arrives."""

    source = models.CharField(max_length=20, default="manual")
    external_id = models.CharField(max_length=100, blank=True)
    email = EncryptedField(category="user.contact.email", null=True)
    email_bidx = BlindIndexField(source="email", normaliser=_normalise_email)
    phone = EncryptedField(category="user.contact.phone", null=True)
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list)  # [{sku, title, quantity, unit_price_minor}]
    subtotal_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    abandoned_at = models.DateTimeField(db_index=True)
    recovered_order = models.ForeignKey(Order, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    recovered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "external_id"],
                                               condition=~models.Q(external_id=""),
                                               name="abandoned_checkout_external_id")]

    def data_subject(self) -> tuple[str, str]:
        return "abandoned_checkout", str(self.pk)
