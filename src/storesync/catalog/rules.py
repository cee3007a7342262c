"""Smart-collection rules, as Shopify's SmartCollection documents them, turned into one ``Q``.

A rule is ``{"column": ..., "relation": ..., "condition": ...}``. Text comparisons ignore case
(as Shopify's do); a variant rule matches a product when any of its variants matches. The
result is a database condition, so membership is computed by the database for any number of
products, and a product that changes (a new tag, a new price) is in or out at the next read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from storesync.core import lookups  # noqa: F401  (registers ``has_tag`` on JSON fields)
from storesync.core.errors import ValidationError
from storesync.core.money import to_minor

TEXT_RELATIONS = ("equals", "not_equals", "starts_with", "ends_with", "contains",
                  "not_contains")
NUMBER_RELATIONS = ("equals", "not_equals", "greater_than", "less_than")

# column -> (model field, relations allowed); ``variant_*`` columns look at every variant.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "title": ("title", TEXT_RELATIONS),
    "type": ("product_type", TEXT_RELATIONS),
    "vendor": ("vendor", TEXT_RELATIONS),
    "tag": ("tags", ("equals",)),
    "variant_title": ("title", TEXT_RELATIONS),
    "variant_price": ("price_minor", NUMBER_RELATIONS),
    "variant_compare_at_price": ("compare_at_minor", NUMBER_RELATIONS),
}
PRICE_COLUMNS = frozenset({"variant_price", "variant_compare_at_price"})
# Names people also use for Shopify's ``type`` column.
ALIASES = {"product_type": "type"}
MAX_RULES = 60  # Shopify's limit per smart collection
MAX_CONDITION = 255

_TEXT_LOOKUPS = {"equals": "iexact", "not_equals": "iexact", "starts_with": "istartswith",
                 "ends_with": "iendswith", "contains": "icontains", "not_contains": "icontains"}
_NUMBER_LOOKUPS = {"equals": "exact", "not_equals": "exact", "greater_than": "gt",
                   "less_than": "lt"}


@dataclass(frozen=True)
class Rule:
    column: str
    relation: str
    condition: str

    def as_dict(self) -> dict[str, str]:
        return {"column": self.column, "relation": self.relation, "condition": self.condition}


def rules_clean(rules: Sequence[dict[str, Any]], *, currency: str) -> list[Rule]:
    """Validated rules (columns, relations and conditions as Shopify allows them).

    Raises ``ValidationError`` naming ``rules.N.column`` / ``.relation`` / ``.condition``.
    """
    if not rules:
        raise ValidationError("a smart collection needs at least one rule", field="rules")
    if len(rules) > MAX_RULES:
        raise ValidationError(f"at most {MAX_RULES} rules", field="rules")
    cleaned = []
    for index, raw in enumerate(rules):
        where = f"rules.{index}."
        column = ALIASES.get(str(raw.get("column", "")), str(raw.get("column", "")))
        if column not in COLUMNS:
            raise ValidationError(f"column is one of {', '.join(COLUMNS)}", field=where + "column")
        relations = COLUMNS[column][1]
        relation = str(raw.get("relation", ""))
        if relation not in relations:
            raise ValidationError(f"for {column}, relation is one of {', '.join(relations)}",
                                  field=where + "relation")
        condition = str(raw.get("condition", "")).strip()
        if not condition or len(condition) > MAX_CONDITION:
            raise ValidationError(f"a condition of 1-{MAX_CONDITION} characters",
                                  field=where + "condition")
        if relations is NUMBER_RELATIONS:
            to_minor(condition, currency, field=where + "condition")
        cleaned.append(Rule(column, relation, condition))
    return cleaned


def _rule_q(rule: Rule, currency: str) -> Q:
    from storesync.catalog.models import Variant

    field, relations = COLUMNS[rule.column]
    if rule.column == "tag":
        return Q(tags__has_tag=rule.condition)
    if relations is NUMBER_RELATIONS:
        lookup = _NUMBER_LOOKUPS[rule.relation]
        value: object = to_minor(rule.condition, currency, field="condition")
    else:
        lookup = _TEXT_LOOKUPS[rule.relation]
        value = rule.condition
    match = Q(**{f"{field}__{lookup}": value})
    if rule.relation in ("not_equals", "not_contains"):
        match = ~match
    if rule.column.startswith("variant_"):
        # Any variant matching makes the product match. An uncorrelated IN (subquery) is
        # evaluated once (a semi-join on PostgreSQL) and cannot repeat rows; a correlated
        # EXISTS let SQLite's planner scan every variant of the workspace per product.
        return Q(id__in=Variant.objects.filter(match).values("product_id"))
    return match


def rules_q(rules: Sequence[Rule], *, disjunctive: bool, currency: str) -> Q:
    """The products matching ``rules``: all of them, or any one when ``disjunctive``."""
    combined = Q()
    for rule in rules:
        part = _rule_q(rule, currency)
        combined = (combined | part) if disjunctive and combined else (combined & part)
    return combined


def rules_from_json(stored: Sequence[dict[str, str]]) -> list[Rule]:
    """Rules as stored on a collection (already validated when written)."""
    return [Rule(r["column"], r["relation"], r["condition"]) for r in stored]
