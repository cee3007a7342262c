"""Customers and their addresses: personal data, encrypted at rest, declared by category."""

from __future__ import annotations

from django.db import models

from storesync.core.models import normalise_email
from storesync.core.tenancy import TenantModel
from storesync.security.fields import BlindIndexField, EncryptedField


def normalise_phone(value: str) -> str:
    """Phones are stored in E.164 already; strip formatting so lookups match either way."""
    return "".join(ch for ch in value if ch.isdigit() or ch == "+")


class MarketingState(models.TextChoices):
    """Shopify's ``CustomerEmailMarketingConsentState`` / SMS state, the three that matter."""

    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"  # never asked: the default


class OptInLevel(models.TextChoices):
    """Shopify's ``CustomerMarketingOptInLevel``."""

    SINGLE_OPT_IN = "single_opt_in"
    CONFIRMED_OPT_IN = "confirmed_opt_in"  # double opt-in: the address confirmed it
    UNKNOWN = "unknown"


class Customer(TenantModel):
    first_name = EncryptedField(category="user.name", null=True)
    last_name = EncryptedField(category="user.name", null=True)
    email = EncryptedField(category="user.contact.email", null=True)
    email_bidx = BlindIndexField(source="email", normaliser=normalise_email)
    phone = EncryptedField(category="user.contact.phone", null=True)
    phone_bidx = BlindIndexField(source="phone", normaliser=normalise_phone)
    tags = models.JSONField(default=list, blank=True)
    note = EncryptedField(category="user.notes", null=True)
    # Marketing consent, as Shopify's emailMarketingConsent / smsMarketingConsent: the state,
    # how it was given, when and where. Kept in clear: it identifies no one, and campaigns
    # must filter on it. Every change is an audit event (the proof of consent).
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

    def data_subject(self) -> tuple[str, str]:
        return "customer", str(self.pk)


class Address(TenantModel):
    """A postal address. Country and state stay in clear: GST place of supply needs them, and
    at that granularity they do not identify anyone."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    is_default = models.BooleanField(default=False)
    name = EncryptedField(category="user.name", null=True)
    line1 = EncryptedField(category="user.contact.address.street", null=True)
    line2 = EncryptedField(category="user.contact.address.street", null=True)
    city = EncryptedField(category="user.contact.address.city", null=True)
    postcode = EncryptedField(category="user.contact.address.postal_code", null=True)
    phone = EncryptedField(category="user.contact.phone", null=True)
    province_code = models.CharField(max_length=8, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def data_subject(self) -> tuple[str, str]:
        return "customer", str(self.customer_id)
