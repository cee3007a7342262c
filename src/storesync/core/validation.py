"""Validation of contact data shared by every app (email, phone)."""

from __future__ import annotations

import email_validator
import phonenumbers

from storesync.core.errors import ValidationError


def validate_email_address(value: str, *, field: str) -> str:
    """A syntactically valid address, normalised (lower-case); no DNS lookups."""
    try:
        info = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(f"not a valid email address: {exc}", field=field) from None
    return info.normalized.lower()


def validate_phone_number(value: str, *, field: str, region: str = "IN") -> str:
    """The number in E.164 form (``+919876543210``); ``region`` applies to national numbers."""
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException:
        raise ValidationError("not a phone number", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("not a valid phone number for its country", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
