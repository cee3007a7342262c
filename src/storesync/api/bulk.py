"""``/api/v1/imports`` (CSV upload -> background job) and ``/api/v1/exports`` (streamed CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Status, UploadedFile

from storesync.api.auth import Principal, require
from storesync.api.errors import json_error
from storesync.api.jobs import JobOut, job_out
from storesync.catalog import bulk as catalog_bulk
from storesync.core.csvio import Columns, CsvRejected
from storesync.core.imports import import_start
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get
from storesync.inventory import bulk as inventory_bulk
from storesync.orders.export import orders_csv

imports = Router(tags=["imports"])
exports = Router(tags=["exports"])


def _start_import(who: Principal, *, kind: str, columns: Columns, upload: UploadedFile,
                  valid_only: bool, dry_run: bool) -> HttpResponse | Status:
    limit = int(settings.STORESYNC_MAX_IMPORT_BYTES)
    if upload.size is not None and upload.size > limit:
        return json_error(413, "payload_too_large",
                          f"the file is larger than {limit // (1024 * 1024)} MiB", "file")
    try:
        job = import_start(workspace_id=who.workspace_id, kind=kind, columns=columns,
                           chunks=upload.chunks(), filename=upload.name or "",
                           valid_only=valid_only, dry_run=dry_run, actor=who.actor)
    except CsvRejected as exc:  # encoding, delimiter and header: refused before queueing
        return json_error(400, exc.code, exc.message, "file",
                          [p.as_dict() for p in exc.problems[:100]])
    return Status(202, job_out(job))


IMPORT_HELP = ("Upload a CSV file (multipart field `file`). The encoding, delimiter and header "
               "are checked at once (400 with every problem); the rows are checked and saved "
               "by a background job (202): follow it at `/api/v1/jobs/{id}`. Nothing is saved "
               "unless every row is valid, or `valid_only` is true.")


@imports.post("/products", response={202: JobOut}, summary="Import products from CSV",
              description=IMPORT_HELP)
def import_products(request: HttpRequest, file: File[UploadedFile],
                    valid_only: Form[bool] = False, dry_run: Form[bool] = False) -> Any:
    who = require(request, Perm.MANAGE_CATALOG)
    return _start_import(who, kind="import.products", columns=catalog_bulk.COLUMNS,
                         upload=file, valid_only=valid_only, dry_run=dry_run)


@imports.post("/inventory", response={202: JobOut}, summary="Import stock levels from CSV",
              description=IMPORT_HELP)
def import_inventory(request: HttpRequest, file: File[UploadedFile],
                     valid_only: Form[bool] = False, dry_run: Form[bool] = False) -> Any:
    who = require(request, Perm.MANAGE_INVENTORY)
    return _start_import(who, kind="import.inventory", columns=inventory_bulk.COLUMNS,
                         upload=file, valid_only=valid_only, dry_run=dry_run)


def _csv_response(chunks: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M%S}.csv"')
    return response


@exports.get("/products", response={200: None},
             summary="All products as CSV, one row per variant (the import's columns)")
def export_products(request: HttpRequest) -> StreamingHttpResponse:
    who = require(request, Perm.VIEW_ORDERS)
    workspace = workspace_get(workspace_id=who.workspace_id)
    return _csv_response(catalog_bulk.products_csv(workspace_id=workspace.id,
                                                   currency=workspace.currency), "products")


@exports.get("/inventory", response={200: None}, summary="All stock levels as CSV")
def export_inventory(request: HttpRequest) -> StreamingHttpResponse:
    who = require(request, Perm.VIEW_ORDERS)
    return _csv_response(inventory_bulk.levels_csv(workspace_id=who.workspace_id), "inventory")


@exports.get("/orders", response={200: None},
             summary="Order lines as CSV with the GST split; no personal data")
def export_orders(request: HttpRequest, placed_from: datetime | None = None,
                  placed_to: datetime | None = None) -> StreamingHttpResponse:
    who = require(request, Perm.VIEW_ORDERS)
    return _csv_response(orders_csv(workspace_id=who.workspace_id, placed_from=placed_from,
                                    placed_to=placed_to), "orders")
