"""Stock: locations, a level per variant and location, reservations and the movement ledger.

``available = on_hand - reserved - safety_buffer``. Every change of ``on_hand`` or ``reserved``
goes through ``inventory.services`` as one conditional UPDATE (so concurrent writers cannot
oversell) plus a ``Movement`` row saying who, why and by how much.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from storesync.core.tenancy import TenantModel


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse"
    STORE = "store"
    THIRD_PARTY = "3pl", "3PL"


class Location(TenantModel):
    """A place that holds stock. Its address is the business's, not personal data."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=LocationKind.choices,
                            default=LocationKind.WAREHOUSE)
    address_line1 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    province_code = models.CharField(max_length=8, blank=True)
    country_code = models.CharField(max_length=2, default="IN")
    gstin = models.CharField(max_length=15, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="location_name")]

    def __str__(self) -> str:
        return self.name


class Level(TenantModel):
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE,
                                related_name="levels")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    safety_buffer = models.PositiveIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "location"], name="level_variant_location"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="level_reserved_nonneg"),
        ]
        indexes = [models.Index(fields=["workspace", "location"])]

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved - self.safety_buffer, 0)


AVAILABLE = F("on_hand") - F("reserved") - F("safety_buffer")


class MovementKind(models.TextChoices):
    RECEIVE = "receive"
    ADJUST = "adjust"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SALE = "sale"
    RETURN = "return"
    RESERVE = "reserve"
    RELEASE = "release"


class Movement(TenantModel):
    """One line of the stock ledger. Never updated or deleted."""

    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    negative_override = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "level", "created_at"])]


class ReservationState(models.TextChoices):
    ACTIVE = "active"
    FULFILLED = "fulfilled"
    RELEASED = "released"


class Reservation(TenantModel):
    """Stock held for an order line until it ships (sale) or is cancelled (release)."""

    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, db_index=True)
    state = models.CharField(max_length=10, choices=ReservationState.choices,
                             default=ReservationState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
