"""Template filters of the staff UI: money in minor units, short ids, GST rates."""

from __future__ import annotations

from decimal import Decimal

from django import template

from storesync.core.money import exponent, from_minor

register = template.Library()

SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$",
           "CAD": "C$", "SGD": "S$", "AED": "AED "}


def _group(digits: str, currency: str) -> str:
    """Thousands separators; Indian rupees use lakh grouping (12,34,567)."""
    if len(digits) <= 3:
        return digits
    if currency.upper() == "INR":
        head, tail = digits[:-3], digits[-3:]
        pairs: list[str] = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        return ",".join([head, *pairs, tail]) if head else ",".join([*pairs, tail])
    return f"{int(digits):,}"


def format_money(minor: int | None, currency: str) -> str:
    """``123456`` INR -> ``₹1,234.56``; ``None`` -> an em dash."""
    if minor is None:
        return "—"
    text = from_minor(abs(int(minor)), currency)
    whole, _, fraction = text.partition(".")
    symbol = SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    sign = "\u2212" if int(minor) < 0 else ""
    return f"{sign}{symbol}{_group(whole, currency)}{'.' + fraction if fraction else ''}"


def compact_money(minor: int, currency: str) -> str:
    """Axis labels: ``₹12k``, ``₹1.5M`` (whole units, at most one decimal)."""
    units = Decimal(int(minor)).scaleb(-exponent(currency))
    symbol = SYMBOLS.get(currency.upper(), "")
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(units) >= size:
            return f"{symbol}{(units / size).quantize(Decimal('0.1')).normalize():f}{suffix}"
    return f"{symbol}{units.quantize(Decimal('1')):f}"


@register.filter
def money(minor: int | None, currency: str) -> str:
    return format_money(minor, currency)


@register.filter
def decimal_amount(minor: int | None, currency: str) -> str:
    """The plain amount for a form field (``1234.50``), empty for ``None``."""
    return "" if minor is None else from_minor(int(minor), currency)


@register.filter
def short_id(value: object) -> str:
    return str(value)[-8:]


@register.filter
def rate(basis_points: int) -> str:
    """``1800`` -> ``18%``; ``25`` -> ``0.25%``."""
    return f"{int(basis_points) / 100:g}%"


@register.filter
def words(value: str) -> str:
    """``partially_refunded`` -> ``partially refunded``."""
    return str(value).replace("_", " ")
