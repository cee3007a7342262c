"""Plain-text twins of customers.Customer and customers.Address: the benchmark's baseline.

Tenant-scoped like the real ones.

Same columns, same indexes; personal fields are ordinary text and the blind indexes become
indexed normalised text, so the only difference measured is encryption.
"""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel

# null=True on text mirrors the real EncryptedField columns, which are nullable.


class PlainCustomer(TenantModel):
    first_name = models.TextField(null=True)
    last_name = models.TextField(null=True)
    email = models.TextField(null=True)
    email_bidx = models.CharField(max_length=254, null=True, db_index=True)
    phone = models.TextField(null=True)
    phone_bidx = models.CharField(max_length=32, null=True, db_index=True)
    tags = models.JSONField(default=list)
    note = models.TextField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)


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
