"""Data-key rotation without downtime.

For each workspace: the active key becomes *retiring* and a new key becomes *active*; new writes
use the new key at once in this process and within ``ACTIVE_KEY_TTL_S`` in every other one.
Then every encrypted value (and blind index) still under an old key is re-encrypted, batch by
batch, each batch in its own short transaction with its rows locked, so concurrent writes are
never overwritten. Passes repeat until one finds nothing left; only then is the old key retired
and its material destroyed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from storesync.core.tenancy import system_scope
from storesync.security import audit, keyring, mfa_secrets
from storesync.security.fields import (
    blind_index_fields,
    ciphertext,
    encrypted_fields,
    row_aad,
)
from storesync.security.models import DataKey

Progress = Callable[[int], object]


@dataclass
class RotationResult:
    workspaces: int = 0
    rows_rewritten: int = 0
    values_rewritten: int = 0
    retired_keys: list[int] = field(default_factory=list)


def encrypted_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if encrypted_fields(m)]


def _scope_filter(model: type[models.Model], workspace_id: uuid.UUID | None) -> models.Q:
    has_workspace = any(f.name == "workspace" for f in model._meta.concrete_fields)
    if not has_workspace:
        return models.Q() if workspace_id is None else models.Q(pk__in=[])
    return models.Q(workspace_id=workspace_id)


def count_rows(workspace_id: uuid.UUID | None) -> int:
    with system_scope():
        return sum(
            m._base_manager.filter(_scope_filter(m, workspace_id)).count()
            for m in encrypted_models()
        )


def _rewrite_batch(
    model: type[models.Model],
    workspace_id: uuid.UUID | None,
    after: object,
    active: int,
    batch_size: int,
) -> tuple[int, int, object | None]:
    """Re-encrypt one batch; returns (rows seen, values rewritten, last pk or None at the end)."""
    ring = keyring.get()
    enc = encrypted_fields(model)
    bidx = blind_index_fields(model)
    pk = model._meta.pk
    assert pk is not None
    assert pk.column is not None
    columns = [pk.attname, *[f.attname for f in enc], *[f.attname for f in bidx]]
    if any(f.name == "workspace" for f in model._meta.concrete_fields):
        columns.append("workspace_id")
    rewritten = 0
    with transaction.atomic():
        queryset = model._base_manager.filter(_scope_filter(model, workspace_id))
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        rows = list(queryset.select_for_update().order_by("pk").values(*columns)[:batch_size])
        if not rows:
            return 0, 0, None
        updates: list[list[object]] = []
        for row in rows:
            plain: dict[str, str | None] = {}
            changed = False
            values: list[object] = []
            row_id, row_ws = row[pk.attname], row.get("workspace_id")
            for f in enc:
                blob = row[f.attname]
                if blob is None:
                    plain[f.attname] = None
                    values.append(None)
                    continue
                blob = ciphertext(blob)
                aad = row_aad(model._meta.label_lower, f.attname, row_id, row_ws)
                text = ring.decrypt(blob, aad=aad).decode()
                plain[f.attname] = text
                if ring.key_id_of(blob) != active:
                    blob = ring.encrypt(text.encode(), workspace_id=workspace_id, aad=aad)
                    changed = True
                    rewritten += 1
                values.append(blob)
            for index_field in bidx:
                source = plain.get(index_field.source)
                values.append(None if source is None
                              else index_field.compute(model, source, key_id=active))
            if changed:  # blind indexes were computed with the same key as the ciphertext
                updates.append([*values, pk.get_db_prep_value(row_id, connection)])
        if updates:
            table = connection.ops.quote_name(model._meta.db_table)
            sets = ", ".join(
                f"{connection.ops.quote_name(c)} = %s"
                for c in [*(f.attname for f in enc), *(f.attname for f in bidx)]
            )
            with connection.cursor() as cursor:
                where = connection.ops.quote_name(pk.column)
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE {where} = %s",  # noqa: S608 - quoted names
                    updates,  # type: ignore[arg-type]  # bytes, None and ids: all bindable
                )
    return len(rows), rewritten, rows[-1][pk.attname]


def _reseal(value: object, active: int) -> tuple[object, bool]:
    if isinstance(value, str) and mfa_secrets.key_id(value) not in (None, active):
        return mfa_secrets.seal(mfa_secrets.unseal(value)), True
    if isinstance(value, list):
        pairs = [_reseal(item, active) for item in value]
        return [item for item, _ in pairs], any(changed for _, changed in pairs)
    return value, False


def _rewrite_mfa_secrets(active: int) -> int:
    """allauth's TOTP secrets and recovery-code seeds, sealed by storesync.security.mfa_secrets."""
    from allauth.mfa.models import Authenticator

    done = 0
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update().order_by("pk"):
            changed_any = False
            for key, value in list(authenticator.data.items()):
                authenticator.data[key], changed = _reseal(value, active)
                changed_any |= changed
            if changed_any:
                authenticator.save(update_fields=["data"])
                done += 1
    return done


def _pass(
    workspace_id: uuid.UUID | None, active: int, batch_size: int, progress: Progress | None
) -> tuple[int, int]:
    seen_total = rewritten_total = 0
    for model in encrypted_models():
        after: object | None = None
        while True:
            seen, rewritten, last = _rewrite_batch(model, workspace_id, after, active, batch_size)
            if last is None:
                break
            after = last
            seen_total += seen
            rewritten_total += rewritten
            if progress:
                progress(seen)
    if workspace_id is None:
        rewritten_total += _rewrite_mfa_secrets(active)
    return seen_total, rewritten_total


def _switch_keys(workspace_id: uuid.UUID | None) -> tuple[int, list[int]]:
    ring = keyring.get()
    with transaction.atomic():
        old = list(
            DataKey.objects.select_for_update()
            .filter(
                keyring.for_workspace(workspace_id),
                state__in=[DataKey.State.ACTIVE, DataKey.State.RETIRING],
            )
            .values_list("id", flat=True)
        )
        DataKey.objects.filter(id__in=old).update(state=DataKey.State.RETIRING)
        new = ring.create_data_key(workspace_id)
    ring.forget_active(workspace_id)
    return new, old


def rotate_workspace(
    workspace_id: uuid.UUID | None,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    max_passes: int = 5,
) -> RotationResult:
    """Rotate one workspace's data key (``None``: the system key) and re-encrypt its data."""
    result = RotationResult(workspaces=1)
    with system_scope():
        active, old = _switch_keys(workspace_id)
        switched_at = time.monotonic()
        for attempt in range(max_passes):
            _, rewritten = _pass(
                workspace_id, active, batch_size, progress if attempt == 0 else None
            )
            result.values_rewritten += rewritten
            # Other processes may still write under the old key until their cache expires.
            wait = keyring.ACTIVE_KEY_TTL_S - (time.monotonic() - switched_at)
            if wait > 0:
                time.sleep(wait)
                continue
            if rewritten == 0:
                break
        else:
            raise RuntimeError("data kept arriving under the old key; rotation not finished")
        with transaction.atomic():
            DataKey.objects.filter(id__in=old).update(
                state=DataKey.State.RETIRED, wrapped=b"", retired_at=timezone.now()
            )
        ring = keyring.get()
        for key_id in old:
            ring.forget_key(key_id)
        result.retired_keys = old
        audit.record(
            action=audit.Action.KEYS_ROTATED,
            actor=audit.Actor.system("keys-rotate"),
            workspace_id=workspace_id,
            subject_type="data_key",
            subject_id=str(active),
            detail={"retired": old, "values_rewritten": result.values_rewritten},
        )
    return result


def workspaces_to_rotate() -> list[uuid.UUID | None]:
    from storesync.core.models import Workspace

    return [None, *Workspace.objects.order_by("created_at").values_list("id", flat=True)]


def key_usage() -> Iterator[tuple[str, str, int]]:
    """(model, field, key id) of every stored ciphertext: proof of what is under which key."""
    ring = keyring.get()
    with system_scope():
        for model in encrypted_models():
            for f in encrypted_fields(model):
                blobs = (
                    model._base_manager.exclude(**{f"{f.attname}__isnull": True})
                    .values_list(f.attname, flat=True)
                    .iterator(chunk_size=2000)
                )
                for blob in blobs:
                    yield model._meta.label_lower, f.attname, ring.key_id_of(ciphertext(blob))
