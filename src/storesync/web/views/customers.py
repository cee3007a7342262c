"""Customers: masked lists, audited reveal, exact lookup by email or phone.

Lists and the detail page never decrypt: personal fields are shown as ``•••••``. Decryption
happens only in ``customer_reveal`` (POST, with a stated purpose), which
``storesync.customers.selectors.customer_reveal`` records in the audit log.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from storesync.core.errors import NotFound, ValidationError
from storesync.core.permissions import Perm
from storesync.customers import selectors
from storesync.customers.models import Customer
from storesync.security.access import Purpose
from storesync.web.membership import member_of, member_required

PAGE_SIZE = 50
PURPOSES = [(p.value, p.value.replace("_", " ").capitalize()) for p in Purpose]


class RevealForm(forms.Form):
    """Why the data is needed; no default, so that every reveal states a real purpose."""

    purpose = forms.ChoiceField(label="Purpose", choices=[("", "Choose a purpose…"),
                                                          *PURPOSES])


class LookupForm(forms.Form):
    """Exact match only (blind indexes): no partial search over encrypted data."""

    email = forms.CharField(required=False, max_length=254)
    phone = forms.CharField(required=False, max_length=32)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("email") or data.get("phone")):
            raise forms.ValidationError("Enter an email address or a phone number.")
        return data


def _lookup(request: HttpRequest, lookup: LookupForm) -> list[Customer]:
    member = member_of(request)
    if not member.can(Perm.VIEW_PERSONAL_DATA):
        raise PermissionDenied("Looking customers up by email or phone uses personal data, "
                               "which your role does not include.")
    if not lookup.is_valid():
        return []
    return selectors.customer_find(workspace_id=member.workspace.id,
                                   email=lookup.cleaned_data["email"] or None,
                                   phone=lookup.cleaned_data["phone"] or None)


@require_http_methods(["GET", "POST"])
@member_required(Perm.VIEW_CUSTOMERS, personal_data=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    """GET: the newest customers, keyset-paginated. POST: an exact lookup by email or phone.

    The lookup is a POST so that the email or phone never lands in a URL (browser history,
    access logs, Referer headers).
    """
    member = member_of(request)
    lookup = LookupForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"lookup": lookup, "searched": lookup.is_bound, "next_cursor": None,
                               "paged": bool(request.GET.get("cursor")), "purposes": PURPOSES,
                               "can_reveal": member.can(Perm.VIEW_PERSONAL_DATA)}
    if lookup.is_bound:
        context["customers"] = _lookup(request, lookup)
    else:
        try:
            page = selectors.customer_list(workspace_id=member.workspace.id,
                                           cursor=request.GET.get("cursor") or None,
                                           limit=PAGE_SIZE)
        except ValidationError:
            raise Http404("That page of customers does not exist.") from None
        context.update(customers=page.items, next_cursor=page.next_cursor)
    response = render(request, "storesync/customers/list.html", context)
    if lookup.is_bound:
        response["Cache-Control"] = "no-store"
    return response


def _customer(request: HttpRequest, customer_id: uuid.UUID) -> Customer:
    """The customer in the member's workspace; any other id is a 404, never a 403."""
    try:
        return selectors.customer_get(workspace_id=member_of(request).workspace.id,
                                      customer_id=customer_id)
    except NotFound:
        raise Http404("There is no such customer in this workspace.") from None


def _detail(request: HttpRequest, customer: Customer, form: RevealForm,
            revealed: dict[str, Any] | None, status: int = 200) -> HttpResponse:
    purpose = form.cleaned_data.get("purpose") if revealed is not None else None
    response = render(request, "storesync/customers/detail.html", {
        "customer": customer, "form": form, "revealed": revealed,
        "purpose_label": dict(PURPOSES).get(purpose or ""),
        "address_count": len(customer.addresses.all()),
    }, status=status)
    if revealed is not None:
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@member_required(Perm.VIEW_CUSTOMERS, personal_data=True)
def customer_detail(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    return _detail(request, _customer(request, customer_id), RevealForm(), None)


@require_POST
@member_required(Perm.VIEW_PERSONAL_DATA, personal_data=True)
def customer_reveal(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    """Decrypt one customer's personal data for the stated purpose (audited).

    The values live only in this response (``no-store``): reloading asks again, and every
    reveal leaves its own ``personal_data.read`` audit event.
    """
    member = member_of(request)
    customer = _customer(request, customer_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _detail(request, customer, form, None, status=400)
    revealed = selectors.customer_reveal(customers=[customer], actor=member.actor,
                                         purpose=form.cleaned_data["purpose"])[0]
    return _detail(request, customer, form, revealed)
