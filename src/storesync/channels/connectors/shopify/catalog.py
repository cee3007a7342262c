"""Reading the catalog: paged queries for small shops, a bulk operation for large ones.

Paged: ``products(first, after)`` with each product's first variants, then
``product.variants(after)`` for products with more ("Paginating results with GraphQL").
Bulk: ``bulkOperationRunQuery`` with the same fields and no ``first``, polled through
``node(id:)`` until COMPLETED, then the JSONL file is read and each variant line is put back
under the product its ``__parentId`` names ("Perform bulk operations with the GraphQL Admin
API"; ``currentBulkOperation`` is deprecated in 2026-04, hence ``node``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from storesync.channels.connectors.base import (
    ChannelError,
    ChannelProduct,
    ChannelVariant,
    Progress,
    Rejected,
)
from storesync.channels.connectors.shopify import mapping, queries
from storesync.channels.connectors.shopify.client import GraphQLClient

BULK_TIMEOUT_S = 1800.0
POLL_FIRST_S, POLL_MAX_S = 0.2, 5.0


def _variants(client: GraphQLClient, product_id: str, first_page: dict[str, Any],
              currency: str) -> list[ChannelVariant]:
    variants = [mapping.variant(v, currency) for v in first_page["nodes"]]
    page_info = first_page["pageInfo"]
    while page_info["hasNextPage"]:
        data = client.execute("ProductVariants", queries.PRODUCT_VARIANTS, {
            "id": product_id, "first": queries.VARIANTS_PER_PAGE,
            "after": page_info["endCursor"]})
        connection = (data.get("product") or {}).get("variants")
        if connection is None:  # the product was deleted meanwhile
            break
        variants += [mapping.variant(v, currency) for v in connection["nodes"]]
        page_info = connection["pageInfo"]
    return variants


def paged(client: GraphQLClient, currency: str, total: int | None,
          progress: Progress | None) -> Iterator[ChannelProduct]:
    """Every product, ``PRODUCTS_PER_PAGE`` at a time."""
    after: str | None = None
    done = 0
    while True:
        data = client.execute("Products", queries.PRODUCTS, {
            "first": queries.PRODUCTS_PER_PAGE, "after": after,
            "variants": queries.VARIANTS_PER_PRODUCT_PAGE})
        connection = data["products"]
        for node in connection["nodes"]:
            variants = _variants(client, node["id"], node["variants"], currency)
            yield mapping.product(node, variants)
            done += 1
        if progress:
            progress(done, total)
        if not connection["pageInfo"]["hasNextPage"]:
            return
        after = connection["pageInfo"]["endCursor"]


def _wait_for(client: GraphQLClient, operation_id: str, total: int | None,
              progress: Progress | None) -> str | None:
    """Poll the bulk operation until it ends; its result URL (None: no products)."""
    deadline = time.monotonic() + BULK_TIMEOUT_S
    pause = POLL_FIRST_S
    while time.monotonic() < deadline:
        data = client.execute("BulkStatus", queries.BULK_STATUS, {"id": operation_id})
        node = data.get("node") or {}
        status = node.get("status")
        if progress and node.get("rootObjectCount") is not None:
            progress(int(node["rootObjectCount"]), total)
        if status == "COMPLETED":
            url: str | None = node.get("url")
            return url
        if status in ("FAILED", "CANCELED", "EXPIRED"):
            raise ChannelError(f"the bulk export ended {status} ({node.get('errorCode')})")
        time.sleep(pause)
        pause = min(pause * 2, POLL_MAX_S)
    raise ChannelError(f"the bulk export did not finish within {BULK_TIMEOUT_S:.0f} s")


def bulk(client: GraphQLClient, currency: str, total: int | None,
         progress: Progress | None) -> Iterator[ChannelProduct]:
    """Every product through one bulk query operation."""
    data = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    run = data["bulkOperationRunQuery"]
    if run["userErrors"]:
        codes = {e.get("code") for e in run["userErrors"]}
        message = "; ".join(e["message"] for e in run["userErrors"])
        if "OPERATION_IN_PROGRESS" in codes:
            raise ChannelError(f"another bulk export is running on the shop: {message}")
        raise Rejected(f"Shopify refused the bulk export: {message}")
    url = _wait_for(client, run["bulkOperation"]["id"], total, progress)
    if url is None:
        return
    products: dict[str, dict[str, Any]] = {}
    variants: dict[str, list[dict[str, Any]]] = {}
    for line in client.download(url).iter_lines():
        if not line.strip():
            continue
        row = json.loads(line)
        parent = row.pop("__parentId", None)
        if parent is None:
            products[row["id"]] = row
        else:
            variants.setdefault(parent, []).append(row)
    for product_id, node in products.items():
        yield mapping.product(node, [mapping.variant(v, currency)
                                     for v in variants.get(product_id, [])])
    if progress:
        progress(len(products), total)
