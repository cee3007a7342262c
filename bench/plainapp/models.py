"""Plain-text twins of customers.Customer and customers.Address: the benchmark's baseline.

Tenant-scoped like the real ones.

Same columns, same indexes; personal fields are ordinary text and the blind indexes become
indexed normalised text, so the only difference measured is encryption. ``bench/encryption.py``
refuses to run when a twin's columns or indexes drift from its model's.
"""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel
from storesync.customers.models import MarketingState, OptInLevel

# null=True on text mirrors the real EncryptedField columns, which are nullable.


class PlainCustomer(TenantModel):
    first_name = models.TextField(null=True)
    last_name = models.TextField(null=True)
    email = models.TextField(null=True)
    email_bidx = models.CharField(max_length=254, null=True, db_index=True)
    phone = models.TextField(null=True)
    phone_bidx = models.CharField(max_length=32, null=True, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    note = models.TextField(null=True)
    email_marketing_state = models.CharField(max_length=16, choices=MarketingState.choices,
                                             default=MarketingState.NOT_SUBSCRIBED)
    email_marketing_opt_in_level = models.CharField(max_length=16, choices=OptInLevel.choices,
                                                    blank=True)
    email_marketing_consent_at = models.DateTimeField(null=True, blank=True)
    email_marketing_source = models.CharField(max_length=64, blank=True)
    sms_marketing_state = models.CharField(max_length=16, choices=MarketingState.choices,
                                           default=MarketingState.NOT_SUBSCRIBED)
    sms_marketing_opt_in_level = models.CharField(max_length=16, choices=OptInLevel.choices,
                                                  blank=True)
    sms_marketing_consent_at = models.DateTimeField(null=True, blank=True)
    sms_marketing_source = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"])]


class PlainAddress(TenantModel):
    customer = models.ForeignKey(PlainCustomer, on_delete=models.CASCADE,
                                 related_name="addresses")
    is_default = models.BooleanField(default=False)
    name = models.TextField(null=True)
    line1 = models.TextField(null=True)
    line2 = models.TextField(null=True)
    city = models.TextField(null=True)
    postcode = models.TextField(null=True)
    phone = models.TextField(null=True)
    province_code = models.CharField(max_length=8, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
