"""Shared pieces of the management commands: lookups and error mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.management.base import CommandError

from storesync.core.errors import StoresyncError
from storesync.core.models import Workspace
from storesync.security.keyring import MasterKeyError, startup_check

T = TypeVar("T")


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the project's errors into a one-line message and a non-zero exit."""
    try:
        yield
    except StoresyncError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise CommandError(f"{exc.message}{where}") from None
    except MasterKeyError as exc:
        raise CommandError(f"master key: {exc}") from None


def keyring_ready(*, create_if_missing: bool = False) -> None:
    with cli_errors():
        startup_check(create_if_missing=create_if_missing)


def workspace_by_slug(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"no workspace with slug {slug!r} (see `storesync workspace list`)")
    return workspace


def call(fn: Callable[[], T]) -> T:
    with cli_errors():
        return fn()
