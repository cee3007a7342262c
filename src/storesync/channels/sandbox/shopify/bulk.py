"""Bulk query operations: run the whole query, write the JSONL result file.

As "Perform bulk operations with the GraphQL Admin API" documents: the query names
connections without ``first``; the result is a JSONL file with one object per line, nodes of
nested connections on their own lines carrying ``__parentId`` (the id of the parent node)
instead of being nested; ``objectCount`` counts every line, ``rootObjectCount`` the top-level
nodes; the operation goes CREATED -> RUNNING -> COMPLETED (or FAILED).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLSchema, graphql_sync

from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.resolvers import Context


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _rows(connection: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(connection.get("nodes"), list):
        return list(connection["nodes"])
    return [edge["node"] for edge in connection.get("edges") or []]


def _flatten(node: dict[str, Any], parent_id: str | None) -> Iterator[dict[str, Any]]:
    row = {k: v for k, v in node.items() if not _is_connection(v)}
    if parent_id is not None:
        row["__parentId"] = parent_id
    yield row
    for value in node.values():
        if _is_connection(value):
            for child in _rows(value):
                yield from _flatten(child, node.get("id"))


def jsonl(data: dict[str, Any]) -> tuple[bytes, int, int]:
    """(file, object count, root object count) for a bulk query's result."""
    lines: list[bytes] = []
    roots = 0
    for value in data.values():
        if not _is_connection(value):
            continue
        for node in _rows(value):
            roots += 1
            lines += [json.dumps(row, separators=(",", ":")).encode() + b"\n"
                      for row in _flatten(node, None)]
    return b"".join(lines), len(lines), roots


def run(schema: GraphQLSchema, context: Context, op: st.BulkOperation,
        url_for: Callable[[st.BulkOperation], str]) -> None:
    """Execute ``op`` to completion (the caller runs this on its own thread)."""
    shop = context.shop
    with shop.lock:
        op.status = "RUNNING"
        try:
            result = graphql_sync(schema, op.query, context_value=context)
            if result.errors or result.data is None:
                raise ValueError(result.errors)
            op.result, op.object_count, op.root_object_count = jsonl(result.data)
        except (ValueError, TypeError):
            op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            op.completed_at = st.now()
            return
        op.file_size = len(op.result)
        op.url = url_for(op) if op.result else None
        op.status, op.completed_at = "COMPLETED", st.now()
