"""The access / portability export: a ZIP of JSON and CSV of everything held about a subject.

``subject.json`` holds every section; each section also comes as a CSV. ``about.json`` says,
from the data map, what each category of data is used for, on what basis, for how long, and
who received it. Every decrypting read here happens inside an audited access scope with the
purpose ``data_subject_request``, so the export itself appears in the subject's access log.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from storesync.core.money import from_minor
from storesync.customers.models import Address, Customer
from storesync.orders.models import AbandonedCheckout, Order
from storesync.privacy import datamap
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.subject_data import Subject
from storesync.security.models import AuditEvent

Rows = list[dict[str, Any]]
# Other apps' sections (consents, ...): called inside the audited scope with the subject.
ExportSection = Callable[[Subject], Rows]
_sections: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    """Add a section (e.g. ``consents``) to every access export."""
    _sections[name] = section


def _customers(subject: Subject) -> Rows:
    return [{"id": str(c.id), "first_name": c.first_name, "last_name": c.last_name,
             "email": c.email, "phone": c.phone, "tags": ",".join(c.tags),
             "created_at": c.created_at.isoformat()}
            for c in Customer.objects.filter(id__in=subject.customer_ids)]


def _addresses(subject: Subject) -> Rows:
    return [{"id": str(a.id), "customer_id": str(a.customer_id), "name": a.name,
             "line1": a.line1, "line2": a.line2, "city": a.city, "postcode": a.postcode,
             "province_code": a.province_code, "country_code": a.country_code, "phone": a.phone}
            for a in Address.objects.filter(customer_id__in=subject.customer_ids)]


def _orders(subject: Subject) -> tuple[Rows, Rows, Rows]:
    orders, lines, refunds = [], [], []
    qs = Order.objects.filter(subject.orders).prefetch_related("lines", "refunds")
    for o in sorted(qs, key=lambda o: (o.placed_at, o.number)):
        cur = o.currency
        orders.append({"id": str(o.id), "order": o.display_name,
                       "placed_at": o.placed_at.isoformat(),
                       "source": o.source, "email": o.email, "ship_name": o.ship_name,
                       "ship_line1": o.ship_line1, "ship_line2": o.ship_line2,
                       "ship_city": o.ship_city, "ship_postcode": o.ship_postcode,
                       "ship_phone": o.ship_phone, "ship_province_code": o.ship_province_code,
                       "ship_country_code": o.ship_country_code, "currency": cur,
                       "total": from_minor(o.total_minor, cur),
                       "financial_status": o.financial_status,
                       "fulfillment_status": o.fulfillment_status})
        lines += [{"order_id": str(o.id), "sku": ln.sku, "title": ln.title,
                   "quantity": ln.quantity, "unit_price": from_minor(ln.unit_price_minor, cur)}
                  for ln in o.lines.all()]
        refunds += [{"order_id": str(o.id), "amount": from_minor(r.amount_minor, cur),
                     "note": r.note, "processed_at": r.processed_at.isoformat()}
                    for r in o.refunds.all()]
    return orders, lines, refunds


def _checkouts(subject: Subject) -> Rows:
    return [{"id": str(c.id), "email": c.email, "phone": c.phone,
             "abandoned_at": c.abandoned_at.isoformat(),
             "total": from_minor(c.total_minor, c.currency),
             "items": "; ".join(f"{ln['quantity']} x {ln['title'] or ln['sku']}"
                                for ln in c.lines)}
            for c in AbandonedCheckout.objects.filter(subject.checkouts)]


def _requests(subject: Subject, request: DataSubjectRequest, digests: list[bytes]) -> Rows:
    earlier = DataSubjectRequest.objects.filter(email_bidx__in=digests).order_by("received_at")
    return [{"id": str(r.id), "kind": r.kind, "status": r.status,
             "received_at": r.received_at.isoformat(),
             "completed_at": r.completed_at.isoformat() if r.completed_at else ""}
            for r in earlier if r.id != request.id]


def _access_log(subject: Subject) -> Rows:
    ids = [str(c) for c in subject.customer_ids]
    events = AuditEvent.objects.filter(chain=str(subject.workspace_id), subject_type="customer",
                                       subject_id__in=ids).order_by("seq")[:10_000]
    return [{"when": e.occurred_at.isoformat(), "who": f"{e.actor_type} {e.actor_id[-8:]}",
             "action": e.action, "fields": ",".join(e.fields), "purpose": e.purpose}
            for e in events]


def _csv(rows: Rows) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def about() -> dict[str, Any]:
    """Per category, from the data map: uses, basis, retention, recipients."""
    out: dict[str, Any] = {}
    for entry in datamap.entries():
        note = datamap.usage(entry.category.name)
        item = out.setdefault(entry.category.name, {
            "description": entry.category.description, "used_for": note.used_for,
            "legal_basis": note.legal_basis, "kept": note.retention,
            "received_by": note.recipients, "where": []})
        item["where"].append(f"{entry.model}.{entry.field}")
    return out


def build_export(subject: Subject, request: DataSubjectRequest,
                 digests: list[bytes]) -> tuple[bytes, dict[str, int]]:
    """The ZIP's bytes and the number of rows per section. Call inside an audited
    ``personal_data_access`` scope of the subject's workspace."""
    orders, lines, refunds = _orders(subject)
    sections: dict[str, Rows] = {
        "customer": _customers(subject), "addresses": _addresses(subject), "orders": orders,
        "order_lines": lines, "refunds": refunds, "abandoned_checkouts": _checkouts(subject),
        "previous_requests": _requests(subject, request, digests),
        "access_log": _access_log(subject),
    }
    for name, section in _sections.items():
        sections[name] = section(subject)
    received = sorted({str(c) for c in subject.connection_ids})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject.json", json.dumps(sections, indent=2, ensure_ascii=False))
        archive.writestr("about.json", json.dumps(
            {"categories": about(), "connections_that_received_your_orders": received},
            indent=2, ensure_ascii=False))
        for name, rows in sections.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue(), {name: len(rows) for name, rows in sections.items()}


