"""The data map: every field that holds personal data, declared once.

Two halves, joined at startup:

* **Introspection** finds every ``EncryptedField`` and ``BlindIndexField`` of every installed
  model: where personal data actually lives.
* **Declarations** (``CATEGORIES``, ``FIELD_OVERRIDES``) say, per data category, why it is held
  (purposes), on what legal basis, for how long, who receives it, and what erasure does to it.

``check_datamap`` (a Django system check, run by ``migrate``, ``serve`` and the test suite)
fails when an encrypted field's category is undeclared, so a new personal field cannot ship
without its purpose and retention. ``processing_record()`` turns the map into the record of
processing activities (GDPR Art. 30) served at ``GET /api/v1/privacy/datamap``.

Indian GST invoices (the legal hold): CGST Act s.36 with CGST Rules r.56(11)-(12) — accounts,
including tax invoices, are kept until 72 months after the due date of the annual return
(GSTR-9, due 31 December after the financial year ending 31 March) of the year they belong to.
An invoice of FY 2025-26 (April 2025 to March 2026) is therefore held until 31 December 2032:
between 6¾ and 7¾ years after the sale. We compute that date per order rather than rounding
to "8 years", so nothing is kept a day longer than the law asks (``gst_invoice_held_until``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.apps import apps
from django.core import checks
from django.db import models

from storesync.security.fields import BlindIndexField, EncryptedField


class Erasure(StrEnum):
    """What an erasure request does to a field."""

    ERASE = "erase"  # set to NULL (ciphertext gone; nothing left to decrypt)
    PSEUDONYMISE = "pseudonymise"  # row kept under its random id, identifying values NULL
    KEEP_LEGAL = "keep_for_legal_obligation"  # kept, flagged, until the legal period ends


class LegalBasis(StrEnum):
    CONTRACT = "contract"  # GDPR Art. 6(1)(b); DPDP s.7(a) specified purpose
    LEGAL_OBLIGATION = "legal_obligation"  # Art. 6(1)(c); DPDP s.7(c)/(d)
    LEGITIMATE_INTERESTS = "legitimate_interests"  # Art. 6(1)(f)
    CONSENT = "consent"  # Art. 6(1)(a); DPDP s.6


@dataclass(frozen=True)
class Category:
    """How one data category is processed."""

    name: str
    description: str
    purposes: tuple[str, ...]
    legal_basis: LegalBasis
    retention: str
    recipients: tuple[str, ...]
    erasure: Erasure = Erasure.ERASE
    legal_retention: str = ""
    personal: bool = True


@dataclass(frozen=True)
class FieldEntry:
    """One model field holding personal data, with its category's declaration."""

    model: str  # app_label.model_name
    field: str
    category: Category
    kind: str  # encrypted | blind_index | plain
    erasure: Erasure
    legal_retention: str = ""


_CONTACT_RECIPIENTS = ("sales channels the order came from", "couriers shipping the order")

CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("user.name", "A person's name", ("order_fulfilment", "customer_support",
             "legal_obligation"), LegalBasis.CONTRACT,
             "while the customer is active; inactive customers after the workspace's period "
             "(default 3 years)", _CONTACT_RECIPIENTS),
    Category("user.contact.email", "Email address", ("order_fulfilment", "customer_support",
             "account_management"), LegalBasis.CONTRACT,
             "as user.name; abandoned checkouts 90 days", ("sales channels the order came from",)),
    Category("user.contact.phone", "Phone number", ("order_fulfilment", "customer_support"),
             LegalBasis.CONTRACT, "as user.name", _CONTACT_RECIPIENTS),
    Category("user.contact.address.street", "Street address", ("order_fulfilment",
             "legal_obligation"), LegalBasis.CONTRACT, "as user.name", _CONTACT_RECIPIENTS),
    Category("user.contact.address.city", "City", ("order_fulfilment", "legal_obligation"),
             LegalBasis.CONTRACT, "as user.name", _CONTACT_RECIPIENTS),
    Category("user.contact.address.postal_code", "Postal code", ("order_fulfilment",
             "legal_obligation"), LegalBasis.CONTRACT, "as user.name", _CONTACT_RECIPIENTS),
    Category("user.notes", "Staff notes about a customer", ("customer_support",),
             LegalBasis.LEGITIMATE_INTERESTS, "as user.name", ()),
    Category("user.request.details", "What a data-subject request asked for",
             ("data_subject_request",), LegalBasis.LEGAL_OBLIGATION,
             "3 years after the request closes (proof of compliance)", (),
             Erasure.KEEP_LEGAL, "3 years after the request closed"),
    Category("user.request.export", "An access export waiting to be downloaded",
             ("data_subject_request",), LegalBasis.LEGAL_OBLIGATION,
             "until downloaded or 7 days", ()),
    Category("user.request.recipient_reference", "How a processor knows a person who asked for "
             "erasure, correction or restriction (the email or phone it received), when no "
             "order reference identifies them", ("data_subject_request",),
             LegalBasis.LEGAL_OBLIGATION, "until the processor answered the notice",
             ("the processor told of the request",)),
    Category("user.channel.webhook_payload", "Raw webhook bodies from sales channels (orders "
             "with the buyer's contact and address)", ("order_fulfilment",), LegalBasis.CONTRACT,
             "30 days after arrival (privacy requests held until handled)", ()),
    Category("user.contact", "A guardian's contact, recorded with their consent for a child",
             ("legal_obligation",), LegalBasis.LEGAL_OBLIGATION,
             "as long as the child's consent is relied on", ()),
    Category("system.credentials", "Channel credentials (not personal)", (), LegalBasis.CONTRACT,
             "while the connection exists", (), personal=False),
    Category("system.idempotency", "Stored API responses (not personal once expired)",
             ("api_idempotency",), LegalBasis.LEGITIMATE_INTERESTS, "24 hours", (),
             personal=False),
)}

GST_HOLD = ("CGST Act s.36 / CGST Rules r.56: until 72 months after the annual return's due "
            "date (31 December after the financial year), when the invoice must name the "
            "recipient (registered buyer, or over ₹50,000: CGST Rules r.46(e)-(f))")

# Per-model overrides of a category's erasure action.
FIELD_OVERRIDES: dict[tuple[str, str], tuple[Erasure, str]] = {
    ("orders.order", name): (Erasure.KEEP_LEGAL, GST_HOLD)
    for name in ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode")
} | {("customers.customer", name): (Erasure.PSEUDONYMISE, "")
     for name in ("first_name", "last_name", "email", "phone", "note")}

# Plain-text fields that look personal by name but are not, or are declared elsewhere: why.
PLAIN_ALLOWED: dict[tuple[str, str], str] = {
    ("core.user", "email"): "staff login name; personal data of staff under contract, kept "
                            "searchable for sign-in (documented in core.models.User)",
    ("core.user", "display_name"): "staff display name, chosen by the staff member",
    ("core.workspace", "name"): "the seller's business name",
    ("core.role", "name"): "a role's name",
    ("catalog.product", "vendor"): "the brand or supplier of a product, a business",
    ("inventory.location", "name"): "a warehouse or shop name",
    ("inventory.location", "address_line1"): "a business premises' address",
    ("inventory.location", "city"): "a business premises' city",
    ("inventory.location", "postcode"): "a business premises' postcode",
    ("inventory.location", "gstin"): "the seller's own GST registration for that premises",
    ("channels.connection", "name"): "a connection's label",
    ("orders.order", "name"): "the channel's order name (#1042), not a person's",
    ("orders.order", "buyer_gstin"): "a business's tax id (GSTIN): B2B invoices must carry it "
                                     "(CGST Rules r.46); not a person's identifier",
    ("orders.draftorder", "buyer_gstin"): "as orders.order.buyer_gstin",
    ("orders.fulfillment", "tracking_number"): "a courier's parcel number",
    ("security.auditevent", "actor_id"): "an id of a staff user or token, no contact data",
    ("account.emailaddress", "email"): "allauth's copy of a staff login email (as core.user)",
    ("auth.group", "name"): "Django's permission groups (unused), not people",
    ("auth.permission", "name"): "Django's permission names, not people",
    ("auth.permission", "codename"): "Django's permission codes, not people",
    ("security.apitoken", "name"): "an API token's label",
    ("privacy.propagation", "recipient_name"): "a connection's or processor's name",
    ("privacy.processor", "name"): "a processor's business name (a courier, a gateway)",
    ("privacy.processor", "privacy_email"): "the processor's privacy or DPO address, a role "
                                            "mailbox of a business, where Art. 19 notices go",
    ("customers.customer", "email_marketing_state"): "a consent state (subscribed, ...) of a "
                                                     "customer whose contact is encrypted",
    ("customers.customer", "email_marketing_opt_in_level"): "how consent was confirmed "
                                                            "(single or double opt-in)",
    ("customers.customer", "email_marketing_source"): "where consent was collected (checkout, "
                                                      "storefront banner, ...)",
}

PERSONAL_NAME_HINTS = ("name", "email", "phone", "address", "line1", "line2", "city",
                       "postcode", "postal", "zip", "ip", "user_agent", "birth", "gstin",
                       "pan", "aadhaar", "mobile")


def erasure_for(model_label: str, field_name: str, category: Category) -> tuple[Erasure, str]:
    return FIELD_OVERRIDES.get((model_label, field_name),
                               (category.erasure, category.legal_retention))


def _models() -> Iterable[type[models.Model]]:
    return (m for m in apps.get_models() if not m._meta.abstract)


def entries() -> list[FieldEntry]:
    """Every personal field of every installed model, with its declaration (unknown
    categories are skipped here and reported by ``check_datamap``)."""
    out: list[FieldEntry] = []
    for model in _models():
        label = model._meta.label_lower
        fields = model._meta.concrete_fields
        encrypted = {f.name: f for f in fields if isinstance(f, EncryptedField)}
        for f in fields:
            if isinstance(f, EncryptedField):
                category = CATEGORIES.get(f.category)
                kind = "encrypted"
            elif isinstance(f, BlindIndexField):
                source = encrypted.get(f.source)
                category = CATEGORIES.get(source.category) if source else None
                kind = "blind_index"
            else:
                continue
            if category is None or not category.personal:
                continue
            erasure, legal = erasure_for(label, f.name, category)
            if kind == "blind_index":
                erasure, legal = Erasure.ERASE, ""  # an index is never needed after erasure
            out.append(FieldEntry(label, f.name, category, kind, erasure, legal))
    return out


def looks_personal(name: str) -> bool:
    lowered = name.lower()
    parts = set(lowered.split("_"))
    return any(h in parts or (len(h) > 3 and h in lowered) for h in PERSONAL_NAME_HINTS)


def undeclared_plain_fields() -> list[str]:
    """Plain-text fields whose names look personal and that are neither encrypted nor on
    the allow-list: each one is a leak the data map does not know about."""
    out = []
    for model in _models():
        label = model._meta.label_lower
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.CharField | models.TextField | models.EmailField
                              | models.GenericIPAddressField):
                continue
            if looks_personal(f.name) and (label, f.name) not in PLAIN_ALLOWED:
                out.append(f"{label}.{f.name}")
    return sorted(out)


@checks.register("privacy")
def check_datamap(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """An encrypted field with an undeclared category is an error: declare it first."""
    errors: list[checks.CheckMessage] = []
    for model in _models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedField) and f.category not in CATEGORIES:
                errors.append(checks.Error(
                    f"{model._meta.label}.{f.name} has data category {f.category!r}, which "
                    "the data map does not declare",
                    hint="add it to storesync.privacy.datamap.CATEGORIES with its purposes, "
                         "legal basis, retention and recipients",
                    obj=f, id="privacy.E001"))
    return errors


def processing_record() -> list[dict[str, object]]:
    """The record of processing activities: one row per personal field."""
    return [{
        "model": e.model, "field": e.field, "storage": e.kind,
        "category": e.category.name, "description": e.category.description,
        "purposes": list(e.category.purposes), "legal_basis": str(e.category.legal_basis),
        "retention": e.category.retention, "recipients": list(e.category.recipients),
        "erasure": str(e.erasure), "legal_retention": e.legal_retention,
    } for e in sorted(entries(), key=lambda e: (e.model, e.field))]


def category_of(model_label: str, field_name: str) -> Category | None:
    model = apps.get_model(model_label)
    f = model._meta.get_field(field_name)
    return CATEGORIES.get(getattr(f, "category", ""))


def gst_invoice_held_until(placed_at: dt.datetime) -> dt.date:
    """The last day an Indian GST invoice of an order placed at ``placed_at`` must be kept."""
    fy_end_year = placed_at.year + 1 if placed_at.month >= 4 else placed_at.year
    return dt.date(fy_end_year + 6, 12, 31)


@dataclass
class UsageNote:
    """For access exports: what a category is used for and who received it."""

    used_for: list[str] = field(default_factory=list)
    legal_basis: str = ""
    recipients: list[str] = field(default_factory=list)
    retention: str = ""


def usage(category_name: str) -> UsageNote:
    c = CATEGORIES.get(category_name)
    if c is None:
        return UsageNote()
    return UsageNote(list(c.purposes), str(c.legal_basis), list(c.recipients), c.retention)
