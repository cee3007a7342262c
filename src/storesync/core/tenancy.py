"""Workspace scoping: every query and job on tenant data runs inside a scope.

``workspace_scope(ws_id)`` narrows every tenant query to one workspace; ``system_scope()`` is
for the few jobs that span workspaces (key rotation, audit verification, migrations).
Outside both, a tenant manager refuses to build a query at all: a forgotten filter is an
exception in tests, never a leak in production.

On PostgreSQL the scope is also written to the connection (``storesync.workspace_id`` /
``storesync.bypass_rls``) where row-level-security policies (``storesync.core.rls``) enforce it
again in the database, as defence in depth.
"""

from __future__ import annotations

import contextvars
import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import connection, models
from django.db.backends.signals import connection_created

from storesync.core.errors import UnscopedQueryError
from storesync.core.ids import uuid7

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Scope:
    workspace_id: uuid.UUID | None
    system: bool = False


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "storesync_scope", default=None
)


def current_scope() -> Scope | None:
    return _scope.get()


def current_workspace_id() -> uuid.UUID:
    """The workspace of the current scope; raises outside a workspace scope."""
    scope = _scope.get()
    if scope is None or scope.workspace_id is None:
        raise UnscopedQueryError("no workspace scope is active")
    return scope.workspace_id


def _apply_to_connection(conn: BaseDatabaseWrapper, scope: Scope | None) -> None:
    if conn.vendor != "postgresql" or conn.connection is None:
        return
    workspace = str(scope.workspace_id) if scope and scope.workspace_id else ""
    bypass = "on" if scope and scope.system else "off"
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('storesync.workspace_id', %s, false),"
            " set_config('storesync.bypass_rls', %s, false)",
            [workspace, bypass],
        )


@contextmanager
def _enter(scope: Scope) -> Iterator[Scope]:
    # A service nested in another's scope for the same workspace (an order reserving stock)
    # re-enters the scope the connection already has: no set_config round trip in or out.
    unchanged = _scope.get() == scope
    token = _scope.set(scope)
    # ensure_connection() fires connection_created, which applies the scope to a new connection.
    if connection.vendor == "postgresql":
        if connection.connection is None:
            connection.ensure_connection()
        elif not unchanged:
            _apply_to_connection(connection, scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
        if (connection.vendor == "postgresql" and connection.connection is not None
                and not unchanged):
            try:
                _apply_to_connection(connection, _scope.get())
            except Exception:
                connection.close()


@contextmanager
def workspace_scope(workspace_id: uuid.UUID | str) -> Iterator[Scope]:
    """Run the block with every tenant query restricted to ``workspace_id``."""
    wid = workspace_id if isinstance(workspace_id, uuid.UUID) else uuid.UUID(str(workspace_id))
    with _enter(Scope(workspace_id=wid)) as scope:
        yield scope


@contextmanager
def system_scope() -> Iterator[Scope]:
    """Run the block across all workspaces (maintenance jobs only; every use is deliberate)."""
    with _enter(Scope(workspace_id=None, system=True)) as scope:
        yield scope


def _on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    _apply_to_connection(connection, _scope.get())


def connect_signals() -> None:
    connection_created.connect(_on_connection_created, dispatch_uid="storesync_tenancy_scope")


M = TypeVar("M", bound=models.Model)


class TenantManager(models.Manager[M], Generic[M]):
    """Default manager of tenant models: scoped to the current workspace, or refuses."""

    def get_queryset(self) -> models.QuerySet[M]:
        scope = _scope.get()
        if scope is None:
            raise UnscopedQueryError(
                f"{self.model.__name__} queried outside workspace_scope()/system_scope()"
            )
        if scope.system:
            return super().get_queryset()
        prototype = _scoped_queryset(self._queryset_class,  # type: ignore[attr-defined]
                                     self.model, self._db, scope.workspace_id)
        return prototype._chain()  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=4096)
def _scoped_queryset(queryset_class: type[models.QuerySet[Any]], model: type[models.Model],
                     db: str | None, workspace_id: uuid.UUID | None) -> models.QuerySet[Any]:
    """A prototype of ``model.objects.filter(workspace_id=...)``, cloned for every use.

    Building the filter costs ~100 µs; Django builds a manager queryset per related object
    when it prefetches, so a page of 1,000 rows would pay that 1,000 times. Cloning the
    prototype (``_chain``) shares nothing mutable with it.
    """
    return queryset_class(model=model, using=db).filter(workspace_id=workspace_id)


class TenantModel(models.Model):
    """A row owned by one workspace. RLS policies are installed for every subclass's table."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+")

    objects: TenantManager[Any] = TenantManager()
    # Django's own machinery (cascades, related descriptors) uses the unfiltered base manager;
    # on PostgreSQL the RLS policies still apply to it.
    tenant_rls = True

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        scope = _scope.get()
        if scope is None:
            raise UnscopedQueryError(f"{type(self).__name__} saved outside a scope")
        if self.workspace_id is None and scope.workspace_id is not None:
            self.workspace_id = scope.workspace_id
        if not scope.system and self.workspace_id != scope.workspace_id:
            raise UnscopedQueryError(f"{type(self).__name__} saved into another workspace")
        super().save(*args, **kwargs)
