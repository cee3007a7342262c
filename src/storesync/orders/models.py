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


class Order(TenantModel):
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=20, default="manual")  # manual, or a platform
    connection = models.ForeignKey("channels.Connection", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    external_id = models.CharField(max_length=100, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="orders")
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
        indexes = [models.Index(fields=["workspace", "placed_at", "id"]),
                   models.Index(fields=["workspace", "source", "placed_at"])]

    def data_subject(self) -> tuple[str, str]:
        if self.customer_id:
            return "customer", str(self.customer_id)
        return "order", str(self.pk)


class OrderLine(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
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
    position = models.PositiveSmallIntegerField(default=1)


class Transaction(TenantModel):
    """A payment event. Card data is never stored: brand and last four digits only."""

    class Kind(models.TextChoices):
        SALE = "sale"
        AUTHORIZATION = "authorization"
        CAPTURE = "capture"
        REFUND = "refund"
        VOID = "void"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transactions")
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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="order_counter")]
