"""One JSON error shape for every failure: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from storesync.core.errors import StoresyncError
from storesync.core.logs import get_logger
from storesync.security.access import PersonalDataAccessError

log = get_logger(__name__)


def error_body(
    code: str, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def json_error(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JsonResponse:
    return JsonResponse(error_body(code, message, field, details), status=status)


_SKIP = {"body", "payload", "query", "path", "header", "data", "form"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    if len(loc) > 1 and str(loc[0]) == "file":  # multipart file parts: ("file", name)
        loc = loc[1:]
    parts = [str(p) for p in loc if str(p) not in _SKIP]
    return ".".join(parts) or "body"


def _validation(request: HttpRequest, exc: Any) -> HttpResponse:
    details = [
        {
            "field": _field_name(err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type", ""),
        }
        for err in exc.errors
    ]
    first = details[0] if details else {"field": "body", "message": "invalid"}
    return json_error(
        422, "validation_error", f"{first['field']}: {first['message']}", first["field"], details
    )


def _http(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        response = json_error(401, "unauthenticated", "a valid bearer token is required")
        response["WWW-Authenticate"] = 'Bearer realm="storesync"'
        return response
    codes = {
        400: "bad_request",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        429: "throttled",
    }
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        return json_error(400, "invalid_json", "the request body is not valid JSON", "body")
    return json_error(exc.status_code, codes.get(exc.status_code, "error"), message)


def _domain(request: HttpRequest, exc: Any) -> HttpResponse:
    return json_error(exc.status, exc.code, exc.message, exc.field)


def _unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return json_error(413, "payload_too_large", "the request body is too large", "body")
    if isinstance(exc, Http404):
        return json_error(404, "not_found", "not found")
    if isinstance(exc, OperationalError | InterfaceError):
        return json_error(503, "unavailable", "the database is unavailable; retry shortly")
    if isinstance(exc, PersonalDataAccessError):
        log.error("personal_data_read_outside_scope", path=request.path)
        return json_error(403, "permission_denied", "personal data is not available here")
    if isinstance(exc, DatabaseError):
        log.exception("database_error", path=request.path)
        return json_error(500, "internal_error", "the request could not be completed")
    log.exception("unhandled_api_error", path=request.path)
    return json_error(500, "internal_error", "the request could not be completed")


def install(api: NinjaAPI) -> None:
    api.add_exception_handler(NinjaValidationError, _validation)
    api.add_exception_handler(HttpError, _http)
    api.add_exception_handler(StoresyncError, _domain)
    api.add_exception_handler(Exception, _unexpected)
