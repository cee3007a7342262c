"""Settings → Locations: where stock is kept. Create, edit (address, GSTIN checked by the
service, checksum included), deactivate and reactivate. Locations are never deleted: their
ledger stays."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from storesync.core.errors import NotFound, StoresyncError
from storesync.core.permissions import Perm
from storesync.inventory import selectors, services
from storesync.inventory.models import Location, LocationKind
from storesync.web.membership import member_of, member_required
from storesync.web.views.forms import add_error

FIELDS = ("name", "kind", "address_line1", "city", "postcode", "province_code", "country_code",
          "gstin")


class LocationForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    kind = forms.ChoiceField(label="Kind", choices=LocationKind.choices)
    address_line1 = forms.CharField(label="Address", max_length=255, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    postcode = forms.CharField(label="Postcode", max_length=16, required=False)
    province_code = forms.CharField(label="State code", max_length=8, required=False,
                                    help_text="e.g. MH, KA — decides CGST+SGST or IGST.")
    country_code = forms.CharField(label="Country", max_length=2, min_length=2, initial="IN")
    gstin = forms.CharField(label="GSTIN", max_length=15, required=False,
                            help_text="15 characters, e.g. 27AAPFU0939F1ZV.")


def _location(request: HttpRequest, location_id: uuid.UUID) -> Location:
    try:
        return selectors.location_get(workspace_id=member_of(request).workspace.id,
                                      location_id=location_id)
    except NotFound:
        raise Http404("There is no such location in this workspace.") from None


@require_http_methods(["GET", "POST"])
@member_required(Perm.MANAGE_INVENTORY)
def location_list(request: HttpRequest) -> HttpResponse:
    """GET lists; POST creates a location."""
    member = member_of(request)
    form = LocationForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            location = services.location_create(workspace_id=member.workspace.id,
                                                actor=member.actor, **form.cleaned_data)
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            messages.success(request, f"Location “{location.name}” added.")
            return redirect("web:locations")
    return render(request, "storesync/settings/locations.html", {
        "form": form, "locations": selectors.location_list(workspace_id=member.workspace.id),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@member_required(Perm.MANAGE_INVENTORY)
def location_edit(request: HttpRequest, location_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    location = _location(request, location_id)
    form = LocationForm(request.POST if request.method == "POST" else None,
                        initial={name: getattr(location, name) for name in FIELDS})
    if form.is_bound and form.is_valid():
        try:
            services.location_update(workspace_id=member.workspace.id, location_id=location.id,
                                     changes=form.cleaned_data, actor=member.actor)
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            messages.success(request, "Location saved.")
            return redirect("web:locations")
    return render(request, "storesync/settings/location.html", {
        "form": form, "location": location,
    }, status=400 if form.errors else 200)


@require_POST
@member_required(Perm.MANAGE_INVENTORY)
def location_active(request: HttpRequest, location_id: uuid.UUID) -> HttpResponse:
    """``active=0`` deactivates, ``active=1`` reactivates."""
    member = member_of(request)
    location = _location(request, location_id)
    active = request.POST.get("active") == "1"
    services.location_set_active(workspace_id=member.workspace.id, location_id=location.id,
                                 active=active, actor=member.actor)
    messages.success(request, f"“{location.name}” " + (
        "is active again." if active else
        "deactivated: orders are no longer taken from it, and its stock is not offered."))
    return redirect("web:locations")
