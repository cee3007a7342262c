"""Mapping the project's errors onto Django forms."""

from __future__ import annotations

from django import forms

from storesync.core.errors import StoresyncError


def add_error(form: forms.Form, exc: StoresyncError) -> None:
    """Show a service's error next to the field it names (or on the form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
