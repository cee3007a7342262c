"""Calculated query cost and the leaky bucket, as "GraphQL Admin API rate limits" documents.

Cost rules (approximated as documented): a scalar or enum field costs 0, an object 1, a
connection 2 plus ``first`` times the cost of one node's selection, a mutation field 10. The
requested cost is computed from the query before it runs; the actual cost after, with the
number of nodes really returned; the bucket is charged the requested cost and refunded the
difference. A single query may not request more than 1,000 points.

Bucket: restore rates per plan are documented (Standard 100 points/s, Advanced 200, Plus
1,000, Enterprise 2,000). The bucket size is not in the current table; Shopify's documented
responses have always shown ``maximumAvailable`` = 20 x ``restoreRate`` (1,000/50 and
2,000/100), so the simulator keeps that ratio unless ``--bucket-size`` says otherwise.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_object_type,
)

MAX_QUERY_COST = 1000
MUTATION_COST = 10
RESTORE_RATES = {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}


def _first(node: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = variables.get(value.name.value)
                return int(found) if found is not None else None
    return None


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        fields: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                fields += self._fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                fields += self._fields(fragment.selection_set if fragment else None)
        return fields

    def cost(self, selection_set: SelectionSetNode | None, parent: Any, data: Any) -> int:
        """Cost of a selection on ``parent`` (a GraphQL type); ``data`` is the result at this
        level for the actual cost, or None for the requested cost."""
        total = 0
        for node in self._fields(selection_set):
            name = node.name.value
            if name.startswith("__"):
                continue
            field = getattr(parent, "fields", {}).get(name)
            if field is None:  # a field of another type of an inline fragment
                field = self._field_anywhere(name)
                if field is None:
                    continue
            named = get_named_type(field.type)
            if not (is_object_type(named) or is_abstract_type(named)):
                continue
            key = node.alias.value if node.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            total += self._field_cost(node, named, value, data is not None)
        return total

    def _field_anywhere(self, name: str) -> Any:
        for graphql_type in self.schema.type_map.values():
            fields = getattr(graphql_type, "fields", None)
            if isinstance(fields, dict) and name in fields and is_object_type(graphql_type):
                return fields[name]
        return None

    def _field_cost(self, node: FieldNode, named: Any, value: Any, actual: bool) -> int:
        if named.name.endswith("Connection"):
            inner = self._node_selection(node)
            node_type = named.fields["nodes"].type
            node_named = get_named_type(node_type)
            if actual:
                rows = self._rows(value)
                return 2 + sum(1 + self.cost(inner, node_named, row) for row in rows)
            count = _first(node, self.variables) or 0
            return 2 + count * (1 + self.cost(inner, node_named, None))
        if actual:
            if value is None:
                return 0
            if isinstance(value, list):
                return sum(1 + self.cost(node.selection_set, named, row) for row in value)
            return 1 + self.cost(node.selection_set, named, value)
        # ``nodes(ids:)`` fetches one object per id; other lists are charged as one object.
        return self._ids(node) * (1 + self.cost(node.selection_set, named, None))

    def _ids(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value == "ids":
                value: Any = argument.value
                if isinstance(value, VariableNode):
                    return max(1, len(self.variables.get(value.name.value) or ()))
                return max(1, len(getattr(value, "values", ()) or ()))
        return 1

    def _node_selection(self, node: FieldNode) -> SelectionSetNode | None:
        """The selection on one node of a connection: ``nodes { ... }`` or ``edges { node }``."""
        for child in self._fields(node.selection_set):
            if child.name.value == "nodes":
                return child.selection_set
            if child.name.value == "edges":
                for grandchild in self._fields(child.selection_set):
                    if grandchild.name.value == "node":
                        return grandchild.selection_set
        return None

    @staticmethod
    def _rows(value: Any) -> list[Any]:
        if not isinstance(value, dict):
            return []
        if isinstance(value.get("nodes"), list):
            return list(value["nodes"])
        return [e.get("node") for e in value.get("edges") or [] if isinstance(e, dict)]


def query_cost(schema: GraphQLSchema, operation: OperationDefinitionNode,
               fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any],
               data: Any = None) -> int:
    """Requested cost (``data`` None) or actual cost (``data`` the result) of an operation."""
    walker = _Walker(schema, fragments, variables)
    if operation.operation.value == "mutation":
        return MUTATION_COST * len(walker._fields(operation.selection_set))
    return walker.cost(operation.selection_set, schema.query_type, data)


@dataclass
class BucketState:
    maximum: float
    available: float
    restore_rate: float


class LeakyBucket:
    """One bucket per access token (Shopify: per app and store pair)."""

    def __init__(self, *, maximum: float, restore_rate: float) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._available: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _current(self, key: str, at: float) -> float:
        available, since = self._available.get(key, (self.maximum, at))
        return min(self.maximum, available + (at - since) * self.restore_rate)

    def take(self, key: str, cost: float) -> tuple[bool, BucketState]:
        """Charge ``cost`` when the bucket holds it; False (nothing charged) when not."""
        with self._lock:
            at = time.monotonic()
            available = self._current(key, at)
            granted = available >= cost
            if granted:
                available -= cost
            self._available[key] = (available, at)
            return granted, BucketState(self.maximum, available, self.restore_rate)

    def refund(self, key: str, points: float) -> BucketState:
        with self._lock:
            at = time.monotonic()
            available = min(self.maximum, self._current(key, at) + max(0.0, points))
            self._available[key] = (available, at)
            return BucketState(self.maximum, available, self.restore_rate)

    def drain(self, key: str) -> None:
        """Empty the bucket (a test switch: the next call is throttled)."""
        with self._lock:
            self._available[key] = (0.0, time.monotonic())
