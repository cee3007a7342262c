"""Connections to sales channels. Credentials are secrets: encrypted, never logged or shown."""

from __future__ import annotations

from django.db import models

from storesync.core.tenancy import TenantModel
from storesync.security.fields import EncryptedField


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    AMAZON = "amazon", "Amazon SP-API"
    EBAY = "ebay", "eBay"


class Connection(TenantModel):
    """One shop on one platform. The connector (issue: channel sync) reads the credentials."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    name = models.CharField(max_length=100)
    # JSON of the platform's credentials (access token, consumer key and secret, ...).
    credentials = EncryptedField(category="system.credentials", personal=False)
    webhook_secret = EncryptedField(category="system.credentials", personal=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="connection_name")
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.name}"
