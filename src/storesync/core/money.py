"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from storesync.core.errors import ValidationError

# Minor-unit exponents that differ from 2 (ISO 4217); everything else has two decimals.
EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "OMR": 3,
             "JOD": 3, "TND": 3}
MAX_MINOR = 10**15


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: str | int | Decimal, currency: str, *, field: str) -> int:
    """``"499.50"`` INR -> 49950. Refuses more decimals than the currency has, and floats."""
    if isinstance(amount, float):
        raise ValidationError("send amounts as strings, not floating-point numbers", field=field)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValidationError("not an amount", field=field) from None
    if not value.is_finite():
        raise ValidationError("not an amount", field=field)
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{currency} has {exponent(currency)} decimal places", field=field)
    minor = int(scaled)
    if abs(minor) >= MAX_MINOR:
        raise ValidationError("amount out of range", field=field)
    return minor


def from_minor(minor: int, currency: str) -> str:
    """49950 INR -> ``"499.50"``."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"
