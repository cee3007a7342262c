"""Inventory: stock levels per location, their ledger, and every change to them.

Adjust, receive, transfer and the buffer/threshold settings each post to their own URL and go
through ``storesync.inventory.services``, so the ledger (or, for settings, the audit log)
records who did it and why. A refused change re-renders the level with the error next to the
field, and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from storesync.catalog.selectors import variants_by_sku
from storesync.core.errors import NotFound, StoresyncError, ValidationError
from storesync.core.permissions import Perm
from storesync.inventory import selectors, services
from storesync.inventory.models import Level, Location
from storesync.web.membership import Member, member_of, member_required
from storesync.web.views.audit import actor_label, actor_names

PAGE_SIZE = 50
LEDGER_PAGE = 50
MAX_QUANTITY = 10_000_000


class AdjustForm(forms.Form):
    delta = forms.IntegerField(label="Change (+/-)", min_value=-MAX_QUANTITY,
                               max_value=MAX_QUANTITY,
                               help_text="Negative to remove stock, e.g. -2 for two damaged.")
    reason = forms.CharField(label="Reason", max_length=255,
                             help_text="Stock count, damage, loss… — kept in the ledger.")

    def clean_delta(self) -> int:
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("Enter a change other than zero.")
        return int(self.cleaned_data["delta"])


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(label="Quantity received", min_value=1, max_value=MAX_QUANTITY)
    reason = forms.CharField(label="Note", max_length=255, required=False,
                             help_text="e.g. the supplier's invoice number.")


class TransferForm(forms.Form):
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=MAX_QUANTITY)

    def __init__(self, *args: Any, locations: list[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_location"] = forms.ChoiceField(
            label="To location", choices=[("", "Choose…")] + [(str(x.id), x.name)
                                                               for x in locations])
        self.fields["reason"] = forms.CharField(label="Reason", max_length=255, required=False)


class SettingsForm(forms.Form):
    safety_buffer = forms.IntegerField(label="Safety buffer", min_value=0, max_value=MAX_QUANTITY,
                                       help_text="Held back from every channel.")
    low_stock_threshold = forms.IntegerField(
        label="Low-stock threshold", min_value=0, max_value=MAX_QUANTITY, required=False,
        help_text="Listed on the dashboard when available stock is at or below it. "
                  "Empty: no alert.")


class NewStockForm(ReceiveForm):
    sku = forms.CharField(label="SKU", max_length=64)

    def __init__(self, *args: Any, locations: list[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"] = forms.ChoiceField(
            label="Location", choices=[(str(x.id), x.name) for x in locations])
        self.order_fields(["sku", "location", "quantity", "reason"])


def _locations(member: Member) -> list[Location]:
    return selectors.location_list(workspace_id=member.workspace.id, active_only=True)


@require_GET
@member_required()
def level_list(request: HttpRequest) -> HttpResponse:
    """Levels, optionally at one location and/or by part of a SKU; keyset pages."""
    member = member_of(request)
    ws = member.workspace.id
    locations = selectors.location_list(workspace_id=ws)
    location = next((x for x in locations if str(x.id) == request.GET.get("location")), None)
    sku = request.GET.get("sku", "").strip()[:64]
    try:
        page = selectors.level_list(workspace_id=ws, location_id=location.id if location else None,
                                    sku=sku or None, cursor=request.GET.get("cursor") or None,
                                    limit=PAGE_SIZE)
    except ValidationError:
        raise Http404("That page of stock does not exist.") from None
    return render(request, "storesync/inventory/list.html", {
        "levels": page.items, "next_cursor": page.next_cursor, "locations": locations,
        "location": location, "sku": sku, "paged": bool(request.GET.get("cursor")),
    })


def _level(request: HttpRequest, level_id: uuid.UUID) -> Level:
    try:
        return selectors.level_get(workspace_id=member_of(request).workspace.id,
                                   level_id=level_id)
    except NotFound:
        raise Http404("There is no such stock level in this workspace.") from None


def _page(request: HttpRequest, level: Level, bound: dict[str, forms.Form] | None = None,
          status: int = 200) -> HttpResponse:
    """The level page with its forms (``bound`` replaces the one that was posted)."""
    member = member_of(request)
    others = [x for x in _locations(member) if x.id != level.location_id]
    forms_: dict[str, forms.Form] = {
        "adjust": AdjustForm(), "receive": ReceiveForm(), "transfer": TransferForm(
            locations=others), "settings": SettingsForm(initial={
                "safety_buffer": level.safety_buffer,
                "low_stock_threshold": level.low_stock_threshold}),
        **(bound or {})}
    try:
        ledger = selectors.movement_page(workspace_id=member.workspace.id, level_id=level.id,
                                         cursor=request.GET.get("cursor") or None,
                                         limit=LEDGER_PAGE)
    except ValidationError:
        raise Http404("That page of the ledger does not exist.") from None
    names = actor_names(member.workspace.id) if ledger.items else {}
    movements = [(m, actor_label(names, m.actor_type, m.actor_id)) for m in ledger.items]
    return render(request, "storesync/inventory/level.html", {
        **forms_, "level": level, "movements": movements, "next_cursor": ledger.next_cursor,
        "paged": bool(request.GET.get("cursor")),
        "can_change": member.can(Perm.MANAGE_INVENTORY),
    }, status=status)


@require_GET
@member_required()
def level_detail(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    return _page(request, _level(request, level_id))


# Service field names → this page's form fields.
_FIELDS = {"to_location_id": "to_location", "quantity": "quantity", "delta": "delta",
           "reason": "reason", "safety_buffer": "safety_buffer",
           "low_stock_threshold": "low_stock_threshold"}


def _change(request: HttpRequest, level_id: uuid.UUID, name: str, form: forms.Form,
            write: Callable[[Member, Level, dict[str, Any]], str]) -> HttpResponse:
    """Validate ``form``, run ``write`` (a service call returning the success message);
    on any error re-render the level with the error on the field it names."""
    member = member_of(request)
    level = _level(request, level_id)
    if form.is_valid():
        try:
            done = write(member, level, form.cleaned_data)
        except StoresyncError as exc:
            target = _FIELDS.get(exc.field or "")
            if target not in form.fields:
                target = "delta" if "delta" in form.fields and exc.field == "quantity" else None
            form.add_error(target, exc.message)
            return _page(request, level, {name: form}, status=exc.status)
        messages.success(request, done)
        return redirect("web:level", level_id=level.id)
    return _page(request, level, {name: form}, status=400)


@require_POST
@member_required(Perm.MANAGE_INVENTORY)
def level_adjust(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    def write(member: Member, level: Level, data: dict[str, Any]) -> str:
        movement = services.stock_adjust(
            workspace_id=member.workspace.id, variant_id=level.variant_id,
            location_id=level.location_id, delta=data["delta"], reason=data["reason"],
            actor=member.actor)
        return f"Adjusted by {data['delta']:+d}: {movement.on_hand_after} on hand."

    return _change(request, level_id, "adjust", AdjustForm(request.POST), write)


@require_POST
@member_required(Perm.MANAGE_INVENTORY)
def level_receive(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    def write(member: Member, level: Level, data: dict[str, Any]) -> str:
        movement = services.stock_receive(
            workspace_id=member.workspace.id, variant_id=level.variant_id,
            location_id=level.location_id, quantity=data["quantity"],
            reason=data["reason"] or "received", actor=member.actor)
        return f"Received {data['quantity']}: {movement.on_hand_after} on hand."

    return _change(request, level_id, "receive", ReceiveForm(request.POST), write)


@require_POST
@member_required(Perm.MANAGE_INVENTORY)
def level_transfer(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    form = TransferForm(request.POST, locations=_locations(member))

    def write(member: Member, level: Level, data: dict[str, Any]) -> str:
        services.stock_transfer(
            workspace_id=member.workspace.id, variant_id=level.variant_id,
            from_location_id=level.location_id, to_location_id=uuid.UUID(data["to_location"]),
            quantity=data["quantity"], reason=data["reason"] or "transfer", actor=member.actor)
        return f"Moved {data['quantity']} to the other location."

    return _change(request, level_id, "transfer", form, write)


@require_POST
@member_required(Perm.MANAGE_INVENTORY)
def level_settings(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    def write(member: Member, level: Level, data: dict[str, Any]) -> str:
        services.level_configure(
            workspace_id=member.workspace.id, level_id=level.id,
            safety_buffer=data["safety_buffer"],
            low_stock_threshold=data["low_stock_threshold"], actor=member.actor)
        return "Buffer and threshold saved."

    return _change(request, level_id, "settings", SettingsForm(request.POST), write)


@require_http_methods(["GET", "POST"])
@member_required(Perm.MANAGE_INVENTORY)
def stock_receive(request: HttpRequest) -> HttpResponse:
    """Receive stock of any SKU at any active location (creates the level if it is new)."""
    member = member_of(request)
    ws = member.workspace.id
    locations = _locations(member)
    posted = request.POST if request.method == "POST" else None
    form = NewStockForm(posted, locations=locations,
                        initial={"sku": request.GET.get("sku", "")[:64]})
    if posted is not None and form.is_valid():
        sku = form.cleaned_data["sku"].strip()
        variant = variants_by_sku(workspace_id=ws, skus=[sku]).get(sku)
        if variant is None:
            form.add_error("sku", "No variant has this SKU (SKUs match exactly).")
        else:
            try:
                movement = services.stock_receive(
                    workspace_id=ws, variant_id=variant.id,
                    location_id=uuid.UUID(form.cleaned_data["location"]),
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"] or "received", actor=member.actor)
            except StoresyncError as exc:
                form.add_error("quantity" if exc.field == "quantity" else None, exc.message)
            else:
                messages.success(request, f"Received {form.cleaned_data['quantity']} of {sku}.")
                return redirect("web:level", level_id=movement.level_id)
    return render(request, "storesync/inventory/receive.html", {
        "form": form, "locations": locations,
    }, status=400 if form.errors else 200)
