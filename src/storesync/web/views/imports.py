"""CSV imports from the staff UI: upload a file, watch its background job, read every problem.

The upload page checks what can be checked at once — the size, the encoding, the delimiter
and the header — through ``core.imports.import_start``, the same service the API uses, and
shows a refused file as a form error with nothing stored and no job queued. The rows are
checked and saved by the job (ADR 0009); its page shows the progress, updated in place by
``app.js`` from ``/imports/<id>/status`` (or a meta refresh without JavaScript), then the
outcome and every problem with its row and column, with the full report as a CSV download.

Who sees what: an import of products needs ``manage_catalog``, of stock ``manage_inventory``
(as in the API); a member sees, retries and cancels only the kinds of job they could start.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from storesync.catalog import bulk as catalog_bulk
from storesync.core import jobs
from storesync.core.csvio import Columns, CsvRejected
from storesync.core.errors import NotFound, StoresyncError, ValidationError
from storesync.core.imports import import_start
from storesync.core.models import Job, JobState
from storesync.core.permissions import Perm
from storesync.inventory import bulk as inventory_bulk
from storesync.web.membership import Member, member_of, member_required

PAGE_SIZE = 50
POLL_MS = 1000


@dataclass(frozen=True)
class ImportKind:
    """One kind of import the UI offers: what it is called, who may run it, its columns."""

    slug: str
    job_kind: str
    perm: Perm
    columns: Columns
    label: str
    example: str


KINDS = {k.slug: k for k in (
    ImportKind("products", "import.products", Perm.MANAGE_CATALOG, catalog_bulk.COLUMNS,
               "Products and variants",
               "handle,title,option1_name,option1_value,sku,price,tax_rate\n"
               "tee,Cotton Tee,Size,S,TEE-S,199.00,5\n"
               "tee,,,M,TEE-M,209.00,5"),
    ImportKind("inventory", "import.inventory", Perm.MANAGE_INVENTORY, inventory_bulk.COLUMNS,
               "Stock levels",
               "sku,location,on_hand,safety_buffer\nTEE-S,Pune warehouse,12,2\n"
               "TEE-M,Pune warehouse,7,"),
)}
BY_JOB_KIND = {k.job_kind: k for k in KINDS.values()}
MODES = [("all", "All or nothing: save only if every row is valid"),
         ("valid", "Valid rows only: save the valid rows, list the others")]


def _limit_bytes() -> int:
    return int(settings.STORESYNC_MAX_IMPORT_BYTES)


def _size_words(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", allow_empty_file=False,
                           help_text="UTF-8 CSV with a header row; commas, semicolons or tabs.",
                           error_messages={"empty": "The file is empty.",
                                           "required": "Choose a CSV file to upload."})
    mode = forms.ChoiceField(label="If some rows have problems", choices=MODES, initial="all",
                             widget=forms.RadioSelect)
    dry_run = forms.BooleanField(label="Only check the file; save nothing", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = _limit_bytes()
        self.fields["file"].widget.attrs.update(accept=".csv,.tsv,.txt,text/csv",
                                                **{"data-max-bytes": str(limit)})
        self.fields["file"].help_text += f" At most {_size_words(limit)}."

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = _limit_bytes()
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"The file is {_size_words(upload.size)}; at most {_size_words(limit)} can be "
                "imported at once. Split it into smaller files.")
        return upload


def _visible(member: Member) -> list[ImportKind]:
    return [k for k in KINDS.values() if member.can(k.perm)]


def _need_any(member: Member) -> list[ImportKind]:
    kinds = _visible(member)
    if not kinds:
        raise PermissionDenied(f"Your role ({member.membership.role}) may not import "
                               "products or stock.")
    return kinds


def _kind(member: Member, slug: str) -> ImportKind:
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404("There is no such kind of import.")
    if not member.can(kind.perm):
        raise PermissionDenied(f"Your role ({member.membership.role}) lacks the "
                               f"“{kind.perm.value}” permission.")
    return kind


def _job(member: Member, job_id: uuid.UUID) -> tuple[Job, ImportKind]:
    """The import job, if this member may see its kind; 404 otherwise (not told apart)."""
    try:
        job = jobs.job_get(workspace_id=member.workspace.id, job_id=job_id)
    except NotFound:
        job = None
    kind = BY_JOB_KIND.get(job.kind) if job is not None else None
    if job is None or kind is None or not member.can(kind.perm):
        raise Http404("There is no such import in this workspace.")
    return job, kind


def can_retry(job: Job) -> bool:
    """Retry makes sense for a failed or cancelled job whose uploaded file is still kept."""
    if job.state not in (JobState.FAILED, JobState.CANCELLED):
        return False
    name = str(job.params.get("file") or "")
    return bool(name) and (jobs.jobs_dir() / name).is_file()


@require_http_methods(["GET", "POST"])
@member_required()
def import_new(request: HttpRequest, what: str) -> HttpResponse:
    """The upload form; a file refused on reading is a form error, and nothing is kept."""
    member = member_of(request)
    kind = _kind(member, what)
    form = ImportForm(request.POST or None, request.FILES or None)
    header_problems: list[Any] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_start(
                    workspace_id=member.workspace.id, kind=kind.job_kind, columns=kind.columns,
                    chunks=upload.chunks(), filename=upload.name or "",
                    valid_only=form.cleaned_data["mode"] == "valid",
                    dry_run=form.cleaned_data["dry_run"], actor=member.actor)
            except CsvRejected as exc:
                form.add_error("file", _sentence(exc.message))
                header_problems = [p for p in exc.problems if p.row is not None][:100]
            else:
                return redirect("web:import", job_id=job.id)
    return render(request, "storesync/imports/new.html", {
        "form": form, "kind": kind, "header_problems": header_problems,
        "columns": kind.columns,
    }, status=status)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


@require_GET
@member_required()
def import_list(request: HttpRequest) -> HttpResponse:
    """Recent import jobs of the kinds this member may run, newest first."""
    member = member_of(request)
    kinds = _need_any(member)
    try:
        page = jobs.job_list(workspace_id=member.workspace.id,
                             cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE,
                             kinds=[k.job_kind for k in kinds])
    except ValidationError:
        raise Http404("That page of imports does not exist.") from None
    rows = [(job, BY_JOB_KIND[job.kind], can_retry(job)) for job in page.items]
    return render(request, "storesync/imports/list.html", {
        "rows": rows, "kinds": kinds, "next_cursor": page.next_cursor,
        "paged": bool(request.GET.get("cursor")),
    })


def status_of(job: Job) -> dict[str, Any]:
    """What the job page shows and its script polls for."""
    total = job.progress_total
    percent = None
    if total:
        percent = min(100, job.progress_done * 100 // total)
    elif job.state == JobState.SUCCEEDED:
        percent = 100
    return {"id": str(job.id), "state": job.state, "finished": job.state in jobs.FINISHED,
            "stage": job.stage, "done": job.progress_done, "total": total, "percent": percent,
            "last_error": job.last_error}


@require_GET
@member_required()
def import_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    job, kind = _job(member, job_id)
    result = job.result or {}
    errors = result.get("errors") or []
    return render(request, "storesync/imports/detail.html", {
        "job": job, "kind": kind, "status": status_of(job), "result": result,
        "errors": errors, "error_count": int(result.get("error_count") or len(errors)),
        "written": sorted((result.get("written") or {}).items()),
        "has_report": bool(job.result_file), "can_retry": can_retry(job),
        "poll_ms": POLL_MS,
    })


@require_GET
@member_required()
def import_status(request: HttpRequest, job_id: uuid.UUID) -> JsonResponse:
    """The job's state and progress as JSON, for the job page's poll."""
    job, _ = _job(member_of(request), job_id)
    response = JsonResponse(status_of(job))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@member_required()
def import_report(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    """Every problem of the import as CSV: row, column, value, problem."""
    job, _ = _job(member_of(request), job_id)
    path = jobs.jobs_dir() / job.result_file if job.result_file else None
    if path is None or not path.is_file():
        raise Http404("This import has no problem report.")
    return FileResponse(path.open("rb"), as_attachment=True, content_type="text/csv",
                        filename=f"import-{job.id}-problems.csv")


@require_POST
@member_required()
def import_retry(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    job, _ = _job(member, job_id)
    if not can_retry(job) and job.state in (JobState.FAILED, JobState.CANCELLED):
        messages.error(request, "The uploaded file is no longer kept; upload it again.")
        return redirect("web:import", job_id=job.id)
    try:
        jobs.job_retry(workspace_id=member.workspace.id, job_id=job.id, actor=member.actor)
    except StoresyncError as exc:
        messages.error(request, _sentence(exc.message))
    else:
        messages.success(request, "The import was queued again with the same file.")
    return redirect("web:import", job_id=job.id)


@require_POST
@member_required()
def import_cancel(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    job, _ = _job(member, job_id)
    try:
        jobs.job_cancel(workspace_id=member.workspace.id, job_id=job.id, actor=member.actor)
    except StoresyncError as exc:
        messages.error(request, _sentence(exc.message))
    else:
        messages.success(request, "The import was cancelled; batches already saved stay saved.")
    return redirect("web:import", job_id=job.id)
