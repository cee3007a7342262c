"""Customers: masked lists, audited reveal, exact lookup by email or phone."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from storesync.core.errors import NotFound, ValidationError
from storesync.core.permissions import Perm
from storesync.customers import selectors
from storesync.security.access import Purpose
from storesync.web.membership import member_of, member_required, personal_data_page


class RevealForm(forms.Form):
    purpose = forms.ChoiceField(choices=[(p.value, p.value.replace("_", " ")) for p in Purpose])


class LookupForm(forms.Form):
    email = forms.CharField(required=False, max_length=254)
    phone = forms.CharField(required=False, max_length=32)


@member_required(Perm.VIEW_CUSTOMERS)
@personal_data_page
def customer_list(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    lookup = LookupForm(request.GET or None)
    found = None
    if lookup.is_bound and lookup.is_valid() and (lookup.cleaned_data["email"]
                                                  or lookup.cleaned_data["phone"]):
        if not member.can(Perm.VIEW_PERSONAL_DATA):
            raise PermissionDenied("looking up by email or phone uses personal data")
        found = selectors.customer_find(workspace_id=member.workspace.id,
                                        email=lookup.cleaned_data["email"] or None,
                                        phone=lookup.cleaned_data["phone"] or None)
    try:
        page = selectors.customer_list(workspace_id=member.workspace.id,
                                       cursor=request.GET.get("cursor") or None, limit=50)
    except ValidationError:
        raise Http404("no such page") from None
    return render(request, "storesync/customers/list.html", {
        "customers": found if found is not None else page.items,
        "next_cursor": None if found is not None else page.next_cursor,
        "lookup": lookup if lookup.is_bound else LookupForm(), "searched": found is not None,
    })


def _customer(request: HttpRequest, customer_id: uuid.UUID):  # type: ignore[no-untyped-def]
    try:
        return selectors.customer_get(workspace_id=member_of(request).workspace.id,
                                      customer_id=customer_id)
    except NotFound:
        raise Http404("no such customer") from None


@member_required(Perm.VIEW_CUSTOMERS)
@personal_data_page
def customer_detail(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    customer = _customer(request, customer_id)
    return render(request, "storesync/customers/detail.html", {
        "customer": customer, "form": RevealForm(), "revealed": None,
        "address_count": len(customer.addresses.all()),
    })


@require_POST
@member_required(Perm.VIEW_PERSONAL_DATA)
@personal_data_page
def customer_reveal(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    """Decrypt one customer's personal data for the stated purpose (audited)."""
    member = member_of(request)
    customer = _customer(request, customer_id)
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        revealed = selectors.customer_reveal(customers=[customer], actor=member.actor,
                                             purpose=form.cleaned_data["purpose"])[0]
    response = render(request, "storesync/customers/detail.html", {
        "customer": customer, "form": form, "revealed": revealed,
        "address_count": len(customer.addresses.all()),
    })
    response["Cache-Control"] = "no-store"
    return response
