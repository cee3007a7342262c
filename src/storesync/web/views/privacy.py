"""Staff privacy pages: storefront settings and policy versions, the processors register,
breaches, and a customer's consent history."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from storesync.core.errors import NotFound, StoresyncError
from storesync.core.permissions import Perm
from storesync.customers import selectors as customer_selectors
from storesync.privacy import breaches, children, consent, policies, processors
from storesync.privacy.consent_models import ConsentPurpose, ConsentState, GuardianMethod
from storesync.privacy.governance_models import ProcessorKind, TransferSafeguard
from storesync.privacy.subjects import Subject
from storesync.web.membership import member_of, member_required
from storesync.web.views.forms import add_error


class SettingsForm(forms.Form):
    storefront_origins = forms.CharField(
        label="Storefront origins", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. https://shop.example.com. Only these sites may call the "
                  "consent API from a browser.")
    banner_version = forms.CharField(label="Banner text version", max_length=40)
    age_gate_enabled = forms.BooleanField(label="Age gate on", required=False)
    minimum_age = forms.IntegerField(label="Minimum age", min_value=13, max_value=21,
                                     help_text="18 under India's DPDP Act.")


class PolicyForm(forms.Form):
    version = forms.CharField(max_length=40, help_text="e.g. 2026-11")
    summary = forms.CharField(label="What changed", widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=5000, help_text="Members and customers are told this.")
    body = forms.CharField(label="Policy text", widget=forms.Textarea(attrs={"rows": 8}),
                           required=False, max_length=200_000)
    url = forms.URLField(label="…or its URL", required=False, max_length=500,
                         assume_scheme="https")
    effective_at = forms.DateTimeField(label="Effective from (UTC)",
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


def _utc(form: forms.Form, name: str) -> Any:
    value = form.cleaned_data[name]
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


@member_required(Perm.MANAGE_PRIVACY)
def privacy_settings(request: HttpRequest) -> HttpResponse:
    """Storefront consent settings (public key, origins, age gate) and policy versions."""
    member = member_of(request)
    ws = member.workspace.id
    row = consent.privacy_settings_ensure(workspace_id=ws)
    initial = {"storefront_origins": "\n".join(row.storefront_origins),
               "banner_version": row.banner_version, "age_gate_enabled": row.age_gate_enabled,
               "minimum_age": row.minimum_age}
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if posted else None
    settings_form = SettingsForm(posted if which == "settings" else None, initial=initial)
    policy_form = PolicyForm(posted if which == "policy" else None)
    if settings_form.is_bound and settings_form.is_valid():
        data = settings_form.cleaned_data
        try:
            consent.privacy_settings_update(workspace_id=ws, actor=member.actor, changes={
                "storefront_origins": data["storefront_origins"].split(),
                "banner_version": data["banner_version"],
                "age_gate_enabled": data["age_gate_enabled"],
                "minimum_age": data["minimum_age"]})
        except StoresyncError as exc:
            add_error(settings_form, exc)
        else:
            messages.success(request, "Privacy settings saved.")
            return redirect("web:privacy")
    if policy_form.is_bound and policy_form.is_valid():
        data = policy_form.cleaned_data
        try:
            published = policies.policy_publish(
                workspace_id=ws, actor=member.actor, version=data["version"],
                summary=data["summary"], body=data["body"], url=data["url"],
                effective_at=_utc(policy_form, "effective_at"))
        except StoresyncError as exc:
            add_error(policy_form, exc)
        else:
            messages.success(request, f"Version {published.version} published; members and "
                                      "customers who accepted an earlier one are being told.")
            return redirect("web:privacy")
    failed = settings_form.errors or policy_form.errors
    return render(request, "storesync/privacy/settings.html", {
        "settings": row, "settings_form": settings_form, "policy_form": policy_form,
        "policies": policies.policy_list(workspace_id=ws),
        "base_url": django_settings.CONFIG.base_url,
    }, status=400 if failed else 200)


@require_POST
@member_required()
def policy_acknowledge(request: HttpRequest, policy_id: uuid.UUID) -> HttpResponse:
    """Hide the policy-change banner for this member (and record their acceptance)."""
    member = member_of(request)
    try:
        policies.policy_acknowledge(workspace_id=member.workspace.id, policy_id=policy_id,
                                    user_id=member.membership.user_id)
    except NotFound:
        raise Http404("There is no such policy version.") from None
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


class ProcessorForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ProcessorKind.choices)
    categories = forms.MultipleChoiceField(
        label="Data it receives", widget=forms.CheckboxSelectMultiple,
        choices=[(c, c) for c in processors.CATEGORIES], required=False)
    country = forms.CharField(max_length=2, help_text="Two letters, e.g. IN")
    safeguard = forms.ChoiceField(label="Transfer safeguard", choices=TransferSafeguard.choices)
    contract_reference = forms.CharField(label="Contract / DPA reference", max_length=200,
                                         required=False)
    privacy_email = forms.EmailField(
        label="Privacy contact email", max_length=254, required=False,
        help_text="Its privacy team or DPO. Erasures, corrections and restrictions of the data "
                  "it received are emailed here (GDPR Art. 19); without one they wait.")


@member_required(Perm.MANAGE_PRIVACY)
def processors_page(request: HttpRequest) -> HttpResponse:
    """The processors register: who receives which data, where, under what safeguard."""
    member = member_of(request)
    ws = member.workspace.id
    form = ProcessorForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            created = processors.processor_create(workspace_id=ws, data=form.cleaned_data,
                                                  actor=member.actor)
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            messages.success(request, f"{created.name} registered.")
            return redirect("web:processors")
    listed = processors.processor_list(workspace_id=ws)
    return render(request, "storesync/privacy/processors.html", {
        "processors": listed, "form": form,
        "without_contact": sum(1 for p in listed if not p.privacy_email),
    }, status=400 if form.errors else 200)


@require_POST
@member_required(Perm.MANAGE_PRIVACY)
def processor_contact(request: HttpRequest, processor_id: uuid.UUID) -> HttpResponse:
    """Set or change a processor's privacy contact; notices that waited for one go out."""
    member = member_of(request)
    try:
        row = processors.processor_update(
            workspace_id=member.workspace.id, processor_id=processor_id, actor=member.actor,
            changes={"privacy_email": request.POST.get("privacy_email", "")})
    except NotFound:
        raise Http404("There is no such processor in this workspace.") from None
    except StoresyncError as exc:
        messages.error(request, f"Privacy contact: {exc.message}")
    else:
        messages.success(request, f"{row.name}: privacy contact "
                                  f"{'saved' if row.privacy_email else 'removed'}.")
    return redirect("web:processors")


@require_POST
@member_required(Perm.MANAGE_PRIVACY)
def processor_toggle(request: HttpRequest, processor_id: uuid.UUID) -> HttpResponse:
    """Stop (or resume) sharing with a processor: an inactive one receives nothing."""
    member = member_of(request)
    try:
        row = processors.processor_get(workspace_id=member.workspace.id,
                                       processor_id=processor_id)
        row = processors.processor_update(workspace_id=member.workspace.id,
                                          processor_id=row.id, actor=member.actor,
                                          changes={"active": not row.active})
    except NotFound:
        raise Http404("There is no such processor in this workspace.") from None
    state = "active again" if row.active else "inactive: nothing is shared with it"
    messages.success(request, f"{row.name} is {state}.")
    return redirect("web:processors")


class BreachForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)
    categories = forms.MultipleChoiceField(
        label="Data categories involved", widget=forms.CheckboxSelectMultiple,
        choices=[(c, c) for c in breaches.BREACH_CATEGORIES])
    window_start = forms.DateTimeField(label="From (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    window_end = forms.DateTimeField(label="To (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    discovered_at = forms.DateTimeField(label="Became aware at (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    contact = forms.CharField(label="Contact point", max_length=300,
                              help_text="Who answers questions: name, email, phone.")
    likely_consequences = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                          required=False, max_length=5000)
    measures = forms.CharField(label="Measures taken", widget=forms.Textarea(attrs={"rows": 2}),
                               required=False, max_length=5000)


@member_required(Perm.MANAGE_PRIVACY)
def breaches_page(request: HttpRequest) -> HttpResponse:
    """Record a breach; list breaches with their deadlines."""
    member = member_of(request)
    ws = member.workspace.id
    form = BreachForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = {**form.cleaned_data, **{k: _utc(form, k) for k in
                                        ("window_start", "window_end", "discovered_at")}}
        try:
            breach = breaches.breach_record(workspace_id=ws, data=data, actor=member.actor)
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            return redirect("web:breach", breach_id=breach.id)
    return render(request, "storesync/privacy/breaches.html", {
        "breaches": breaches.breach_list(workspace_id=ws), "form": form, "now": timezone.now(),
    }, status=400 if form.errors else 200)


@member_required(Perm.MANAGE_PRIVACY)
def breach_detail(request: HttpRequest, breach_id: uuid.UUID) -> HttpResponse:
    """The deadline, the affected subjects, and the two notices (edit, mark sent)."""
    member = member_of(request)
    ws = member.workspace.id
    try:
        breach = breaches.breach_get(workspace_id=ws, breach_id=breach_id)
        if request.method == "POST":
            kind = request.POST.get("kind", "")
            if request.POST.get("action") == "sent":
                breaches.breach_notice_mark_sent(workspace_id=ws, breach_id=breach.id,
                                                 kind=kind, actor=member.actor)
                messages.success(request, "Marked as sent.")
            else:
                breaches.breach_notice_edit(workspace_id=ws, breach_id=breach.id, kind=kind,
                                            text=request.POST.get("text", ""),
                                            actor=member.actor)
                messages.success(request, "Notice saved.")
            return redirect("web:breach", breach_id=breach.id)
    except NotFound:
        raise Http404("There is no such breach in this workspace.") from None
    except StoresyncError as exc:
        messages.error(request, exc.message)
        return redirect("web:breach", breach_id=breach_id)
    subjects = breaches.breach_subjects(workspace_id=ws, breach_id=breach.id, limit=200)
    return render(request, "storesync/privacy/breach.html", {
        "breach": breach, "subjects": subjects, "now": timezone.now(),
        "overdue": breach.overdue()})


class AgeForm(forms.Form):
    under_age = forms.TypedChoiceField(
        label="Age", coerce=lambda v: v == "yes",
        choices=[("yes", "Under the minimum age"), ("no", "Not under the minimum age")])


class GuardianForm(forms.Form):
    guardian_name = forms.CharField(label="Guardian's name", max_length=200)
    guardian_contact = forms.CharField(label="Guardian's email or phone", max_length=254)
    method = forms.ChoiceField(label="Verified by", choices=GuardianMethod.choices)
    verified_at = forms.DateTimeField(label="Verified at (UTC)", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))


class ConsentForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="consent", required=False)
    purpose = forms.ChoiceField(choices=[(p, p) for p in ConsentPurpose.values
                                         if p != ConsentPurpose.NECESSARY])
    state = forms.ChoiceField(choices=ConsentState.choices)


@member_required(Perm.VIEW_CUSTOMERS)
def customer_consent(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    """A customer's consent per purpose now, and every decision ever recorded."""
    member = member_of(request)
    ws = member.workspace.id
    try:
        customer = customer_selectors.customer_get(workspace_id=ws, customer_id=customer_id)
    except NotFound:
        raise Http404("There is no such customer in this workspace.") from None
    subject = Subject("customer", str(customer.id))
    posted = request.POST if request.method == "POST" else None
    if posted is not None and not member.can(Perm.MANAGE_CUSTOMERS):
        raise PermissionDenied("Recording consent needs the manage_customers permission.")
    is_age = posted is not None and posted.get("action") == "age"
    form = ConsentForm(None if is_age else posted)
    age_form = AgeForm(posted if is_age else None)
    if age_form.is_bound and age_form.is_valid():
        children.subject_age_set(workspace_id=ws, subject=subject, actor=member.actor,
                                 under_age=age_form.cleaned_data["under_age"])
        messages.success(request, "Age recorded.")
        return redirect("web:customer_consent", customer_id=customer.id)
    if form.is_bound and form.is_valid():
        try:
            consent.consent_record(workspace_id=ws, subject=subject, source="staff",
                                   actor=member.actor, purpose=form.cleaned_data["purpose"],
                                   state=form.cleaned_data["state"])
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            messages.success(request, "Recorded.")
            return redirect("web:customer_consent", customer_id=customer.id)
    # Each purpose with why it is refused (a restriction names its request), not a bare "no".
    allows = consent.consent_summary(workspace_id=ws, subject=subject)
    return render(request, "storesync/privacy/consent.html", {
        "customer": customer, "allows": allows, "form": form, "age_form": age_form,
        "under_age": children.is_under_age(workspace_id=ws, subject=subject),
        "guardian": children.has_guardian_consent(workspace_id=ws, subject=subject),
        "history": consent.consent_history(workspace_id=ws, subject=subject),
        "can_record": member.can(Perm.MANAGE_CUSTOMERS), "guardian_form": GuardianForm(),
        "can_guardian": member.can(Perm.MANAGE_PRIVACY),
    }, status=400 if form.errors else 200)


@require_POST
@member_required(Perm.MANAGE_PRIVACY)
def guardian_consent(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    """Record verifiable guardian consent for a child (name and contact stored encrypted)."""
    member = member_of(request)
    ws = member.workspace.id
    try:
        customer = customer_selectors.customer_get(workspace_id=ws, customer_id=customer_id)
    except NotFound:
        raise Http404("There is no such customer in this workspace.") from None
    form = GuardianForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label}: {errors[0]}")
    else:
        try:
            children.guardian_consent_record(
                workspace_id=ws, subject=Subject("customer", str(customer.id)),
                actor=member.actor, **{**form.cleaned_data,
                                       "verified_at": _utc(form, "verified_at")})
        except StoresyncError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Guardian consent recorded.")
    return redirect("web:customer_consent", customer_id=customer.id)
