"""Products and variants, shaped like Shopify's and Saleor's so that connectors map 1:1.

Money is integer minor units (paise for INR) in the workspace's currency; tax rates are basis
points (1800 = 18% GST).
"""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel


class ProductStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Product(TenantModel):
    title = models.CharField(max_length=255)
    handle = models.SlugField(max_length=255)
    description = models.TextField(blank=True)
    vendor = models.CharField(max_length=255, blank=True, db_index=True)
    product_type = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=ProductStatus.choices,
                              default=ProductStatus.DRAFT)
    tags = models.JSONField(default=list, blank=True)
    # Option names in order, at most three (Shopify's limit): ["Size", "Colour"].
    options = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "handle"], name="product_handle")
        ]
        indexes = [models.Index(fields=["workspace", "status", "id"])]

    def __str__(self) -> str:
        return self.title


class Variant(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64)
    barcode = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255, blank=True)
    option1 = models.CharField(max_length=100, blank=True)
    option2 = models.CharField(max_length=100, blank=True)
    option3 = models.CharField(max_length=100, blank=True)
    price_minor = models.BigIntegerField()
    compare_at_minor = models.BigIntegerField(null=True, blank=True)
    cost_minor = models.BigIntegerField(null=True, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    hsn_code = models.CharField(max_length=8, blank=True)
    tax_rate_bp = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=1)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "sku"], name="variant_sku")]
        indexes = [models.Index(fields=["workspace", "barcode"])]

    def __str__(self) -> str:
        return self.sku


class ListingStatus(models.TextChoices):
    ACTIVE = "active"
    UNLISTED = "unlisted"


class Listing(TenantModel):
    """A variant sold on one channel connection: the ids the platform knows it by.

    The channel engine pushes the variant's available quantity to ``inventory_item_id`` at
    ``channel_location_id`` while the listing is active. ``last_channel_quantity`` is what the
    channel showed the last time storesync looked or pushed: the ``expected`` value of the next
    compare-and-set push (None until known).
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="listings")
    # By name: catalog sits below channels and never imports it.
    connection = models.ForeignKey("channels.Connection", on_delete=models.CASCADE,
                                   related_name="listings")
    external_product_id = models.CharField(max_length=255)
    external_variant_id = models.CharField(max_length=255)
    inventory_item_id = models.CharField(max_length=255)
    channel_location_id = models.CharField(max_length=255, blank=True)
    price_override_minor = models.BigIntegerField(null=True, blank=True)
    # Units held back from this channel (None: the connection's buffer applies).
    safety_buffer = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ListingStatus.choices,
                              default=ListingStatus.ACTIVE)
    last_channel_quantity = models.IntegerField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_variant_id"],
                                    name="listing_external_variant"),
            models.UniqueConstraint(fields=["connection", "variant"], name="listing_variant"),
        ]
        indexes = [models.Index(fields=["workspace", "variant"])]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.connection_id}"


class CollectionKind(models.TextChoices):
    CUSTOM = "custom"  # members are picked by hand, in order
    SMART = "smart"  # members are the products that match the rules, computed at read time


class CollectionSort(models.TextChoices):
    """Shopify's ``sort_order`` values for a collection's products."""

    MANUAL = "manual"
    ALPHA_ASC = "alpha-asc"
    ALPHA_DESC = "alpha-desc"
    CREATED = "created"
    CREATED_DESC = "created-desc"
    PRICE_ASC = "price-asc"
    PRICE_DESC = "price-desc"


class Collection(TenantModel):
    """A group of products, as Shopify's custom and smart collections.

    ``rules`` (smart only) is a list of ``{"column", "relation", "condition"}`` exactly as
    Shopify's SmartCollection rules; ``disjunctive`` means a product matching any rule is a
    member, otherwise it must match all. Membership is never stored for smart collections:
    ``catalog.rules.rules_q`` turns the rules into one database condition.
    """

    title = models.CharField(max_length=255)
    handle = models.SlugField(max_length=255)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=8, choices=CollectionKind.choices)
    rules = models.JSONField(default=list, blank=True)
    disjunctive = models.BooleanField(default=False)
    sort_order = models.CharField(max_length=16, choices=CollectionSort.choices,
                                  default=CollectionSort.MANUAL)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "handle"], name="collection_handle")
        ]

    def __str__(self) -> str:
        return self.title


class CollectionProduct(TenantModel):
    """A product's place in a custom collection (Shopify's ``Collect``)."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE,
                                   related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE,
                                related_name="collection_memberships")
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "product"], name="collection_product")
        ]
        indexes = [models.Index(fields=["collection", "position"])]


class ImageFormat(models.TextChoices):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"


class ProductImage(TenantModel):
    """A product photo. The file lives under ``<data dir>/media/`` at ``storage_key``, a path
    made of the workspace and a random id (never the uploaded name), and is served only to
    members through the API."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="images")
    storage_key = models.CharField(max_length=255, unique=True)
    format = models.CharField(max_length=4, choices=ImageFormat.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    alt_text = models.CharField(max_length=512, blank=True)
    position = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["product", "position"])]

    @property
    def content_type(self) -> str:
        return f"image/{self.format}"
