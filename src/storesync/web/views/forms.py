"""Form helpers shared by the staff pages: service errors onto fields, money and GST inputs."""

from __future__ import annotations

from typing import Any

from django import forms

from storesync.catalog.services import GST_RATES_BP
from storesync.core.errors import StoresyncError
from storesync.core.errors import ValidationError as ServiceValidationError
from storesync.core.money import from_minor, to_minor

GST_CHOICES = [(str(bp), f"{bp / 100:g}%") for bp in sorted(GST_RATES_BP)]


def add_error(form: forms.Form, exc: StoresyncError) -> None:
    """Show a service's error next to the field it names (or on the form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class MoneyField(forms.CharField):
    """An amount typed in major units (``1299.50``), cleaned to integer minor units."""

    def __init__(self, *args: Any, currency: str = "INR", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.widget.attrs.update(inputmode="decimal", autocomplete="off", maxlength="20")

    def prepare_value(self, value: Any) -> Any:
        # Initial values are minor units (ints); posted values are the typed text.
        return from_minor(value, self.currency) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip().replace(",", "")
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError("not an amount")
        try:
            minor = to_minor(text, self.currency, field="amount")
        except ServiceValidationError as exc:
            raise forms.ValidationError(exc.message) from None
        if minor < 0:
            raise forms.ValidationError("cannot be negative")
        return minor


def with_currency(form: forms.Form, currency: str) -> None:
    """Point every ``MoneyField`` of ``form`` at the workspace's currency."""
    for field in form.fields.values():
        if isinstance(field, MoneyField):
            field.currency = currency
