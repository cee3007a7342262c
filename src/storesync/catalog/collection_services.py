"""Writes for collections: custom (hand-picked, ordered) and smart (rules)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from storesync.catalog.models import (
    Collection,
    CollectionKind,
    CollectionProduct,
    CollectionSort,
    Product,
)
from storesync.catalog.rules import rules_clean
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

MAX_MEMBERS_PER_CALL = 250


@dataclass
class CollectionInput:
    title: str
    kind: str = CollectionKind.CUSTOM
    handle: str = ""
    description: str = ""
    sort_order: str = ""
    rules: list[dict[str, Any]] = field(default_factory=list)
    disjunctive: bool = False
    product_ids: list[uuid.UUID] = field(default_factory=list)


def _currency(workspace_id: uuid.UUID) -> str:
    return Workspace.objects.filter(id=workspace_id).values_list("currency", flat=True).get()


def _check_sort(kind: str, sort_order: str) -> str:
    if sort_order not in CollectionSort.values:
        raise ValidationError(f"sort_order is one of {', '.join(CollectionSort.values)}",
                              field="sort_order")
    if kind == CollectionKind.SMART and sort_order == CollectionSort.MANUAL:
        raise ValidationError("a smart collection's order is computed; choose another",
                              field="sort_order")
    return sort_order


def _check(workspace_id: uuid.UUID, data: CollectionInput) -> tuple[str, list[dict[str, str]]]:
    if not data.title.strip():
        raise ValidationError("a collection needs a title", field="title")
    if data.kind not in CollectionKind.values:
        raise ValidationError(f"kind is one of {', '.join(CollectionKind.values)}", field="kind")
    default_sort = (CollectionSort.MANUAL if data.kind == CollectionKind.CUSTOM
                    else CollectionSort.ALPHA_ASC)
    sort_order = _check_sort(data.kind, data.sort_order or default_sort)
    if data.kind == CollectionKind.CUSTOM:
        if data.rules:
            raise ValidationError("only a smart collection has rules", field="rules")
        return sort_order, []
    if data.product_ids:
        raise ValidationError("a smart collection's products come from its rules",
                              field="product_ids")
    rules = rules_clean(data.rules, currency=_currency(workspace_id))
    return sort_order, [r.as_dict() for r in rules]


def _existing_products(product_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The ids, in order and without repeats; NotFound names the first that is not ours."""
    wanted = list(dict.fromkeys(product_ids))
    if len(wanted) > MAX_MEMBERS_PER_CALL:
        raise ValidationError(f"at most {MAX_MEMBERS_PER_CALL} products at once",
                              field="product_ids")
    found = set(Product.objects.filter(id__in=wanted).values_list("id", flat=True))
    for index, pid in enumerate(wanted):
        if pid not in found:
            raise NotFound(f"no such product {pid}", field=f"product_ids.{index}")
    return wanted


def collection_create(*, workspace_id: uuid.UUID, data: CollectionInput,
                      actor: audit.Actor) -> Collection:
    """A custom collection (optionally with its first products, in order) or a smart one.

    The handle is unique per workspace: a taken handle given explicitly is a Conflict, one
    derived from the title gets a short suffix.
    """
    with workspace_scope(workspace_id):
        sort_order, rules = _check(workspace_id, data)
        handle = slugify(data.handle or data.title)[:255]
        if not handle:
            raise ValidationError("the title gives no usable handle; set one", field="handle")
        with transaction.atomic():
            if Collection.objects.filter(handle=handle).exists():
                if data.handle:
                    raise Conflict(f"the handle {handle!r} is taken", field="handle")
                handle = f"{handle}-{uuid.uuid4().hex[:6]}"
            members = _existing_products(data.product_ids)
            try:
                collection = Collection.objects.create(
                    workspace_id=workspace_id, title=data.title.strip(), handle=handle,
                    description=data.description, kind=data.kind, rules=rules,
                    disjunctive=data.disjunctive, sort_order=sort_order)
            except IntegrityError:
                raise Conflict(f"the handle {handle!r} is taken", field="handle") from None
            CollectionProduct.objects.bulk_create([
                CollectionProduct(workspace_id=workspace_id, collection=collection,
                                  product_id=pid, position=i + 1)
                for i, pid in enumerate(members)])
    return collection


def collection_update(*, workspace_id: uuid.UUID, collection_id: uuid.UUID,
                      expected_version: int | None, changes: dict[str, Any],
                      actor: audit.Actor) -> Collection:
    """Change title, handle, description, sort order, or (smart) rules and ``disjunctive``.

    With ``expected_version``, a write based on a stale read is a Conflict.
    """
    allowed = {"title", "handle", "description", "sort_order", "rules", "disjunctive"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError("not a field that can be changed here", field=sorted(unknown)[0])
    with workspace_scope(workspace_id), transaction.atomic():
        collection = Collection.objects.select_for_update().filter(id=collection_id).first()
        if collection is None:
            raise NotFound("no such collection")
        if expected_version is not None and collection.version != expected_version:
            raise Conflict("the collection changed since you read it; reload and retry",
                           field="version")
        merged = CollectionInput(
            title=changes.get("title", collection.title), kind=collection.kind,
            sort_order=changes.get("sort_order", collection.sort_order),
            rules=changes.get("rules", collection.rules),
            disjunctive=changes.get("disjunctive", collection.disjunctive))
        collection.sort_order, collection.rules = _check(workspace_id, merged)
        collection.title = merged.title.strip()
        collection.disjunctive = merged.disjunctive
        collection.description = changes.get("description", collection.description)
        if "handle" in changes:
            handle = slugify(str(changes["handle"]))[:255]
            if not handle:
                raise ValidationError("a handle needs letters or digits", field="handle")
            if Collection.objects.filter(handle=handle).exclude(id=collection.id).exists():
                raise Conflict(f"the handle {handle!r} is taken", field="handle")
            collection.handle = handle
        collection.version += 1
        collection.save()
    return collection


def collection_delete(*, workspace_id: uuid.UUID, collection_id: uuid.UUID,
                      actor: audit.Actor) -> None:
    """Remove a collection (its products stay; only their membership goes)."""
    with workspace_scope(workspace_id), transaction.atomic():
        collection = Collection.objects.filter(id=collection_id).first()
        if collection is None:
            raise NotFound("no such collection")
        collection.delete()


def _custom(collection_id: uuid.UUID) -> Collection:
    collection = Collection.objects.select_for_update().filter(id=collection_id).first()
    if collection is None:
        raise NotFound("no such collection")
    if collection.kind != CollectionKind.CUSTOM:
        raise ValidationError("a smart collection's products come from its rules",
                              field="product_ids")
    return collection


def collection_products_add(*, workspace_id: uuid.UUID, collection_id: uuid.UUID,
                            product_ids: Sequence[uuid.UUID], actor: audit.Actor) -> int:
    """Append products to a custom collection, in the order given; returns how many were new."""
    if not product_ids:
        raise ValidationError("name at least one product", field="product_ids")
    with workspace_scope(workspace_id), transaction.atomic():
        collection = _custom(collection_id)
        wanted = _existing_products(product_ids)
        present = set(collection.memberships.values_list("product_id", flat=True))
        new = [pid for pid in wanted if pid not in present]
        last = collection.memberships.aggregate(last=Max("position"))["last"] or 0
        CollectionProduct.objects.bulk_create([
            CollectionProduct(workspace_id=workspace_id, collection=collection, product_id=pid,
                              position=last + i + 1) for i, pid in enumerate(new)])
        Collection.objects.filter(id=collection.id).update(version=collection.version + 1)
    return len(new)


def collection_products_remove(*, workspace_id: uuid.UUID, collection_id: uuid.UUID,
                               product_ids: Sequence[uuid.UUID], actor: audit.Actor) -> int:
    """Take products out of a custom collection; returns how many were members."""
    with workspace_scope(workspace_id), transaction.atomic():
        collection = _custom(collection_id)
        removed, _ = collection.memberships.filter(product_id__in=list(product_ids)).delete()
        Collection.objects.filter(id=collection.id).update(version=collection.version + 1)
    return removed


def collection_products_reorder(*, workspace_id: uuid.UUID, collection_id: uuid.UUID,
                                product_ids: Sequence[uuid.UUID], actor: audit.Actor) -> None:
    """Set the manual order: ``product_ids`` must name every member exactly once."""
    with workspace_scope(workspace_id), transaction.atomic():
        collection = _custom(collection_id)
        memberships = {m.product_id: m for m in collection.memberships.all()}
        if len(product_ids) != len(memberships) or set(product_ids) != set(memberships):
            raise ValidationError("list every product of the collection exactly once",
                                  field="product_ids")
        for position, pid in enumerate(product_ids, start=1):
            memberships[pid].position = position
        CollectionProduct.objects.bulk_update(list(memberships.values()), ["position"])
        Collection.objects.filter(id=collection.id).update(version=collection.version + 1)
