"""The project's error types. Each maps to one HTTP status and one CLI exit, centrally."""

from __future__ import annotations


class StoresyncError(Exception):
    """Base of every error storesync raises on purpose."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(StoresyncError):
    """Input that breaks a rule; ``field`` names the offending field."""

    status = 400
    code = "invalid"


class NotFound(StoresyncError):
    """Absent, or in another workspace: the two are never told apart."""

    status = 404
    code = "not_found"


class PermissionDenied(StoresyncError):
    """The actor lacks a permission; raised before any lookup, so nothing leaks."""

    status = 403
    code = "permission_denied"


class Conflict(StoresyncError):
    """The write conflicts with the stored state (duplicate, stale version)."""

    status = 409
    code = "conflict"


class MFARequired(PermissionDenied):
    """Personal data needs a session that passed a second factor."""

    code = "mfa_required"


class UnscopedQueryError(RuntimeError):
    """A tenant table was queried outside a workspace or system scope: a programming error."""
