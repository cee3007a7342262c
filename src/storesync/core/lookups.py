"""Custom ORM lookups shared by the domain apps. Importing this module registers them."""

from __future__ import annotations

from typing import Any

from django.db.models import JSONField, Lookup
from django.db.models.sql.compiler import SQLCompiler


@JSONField.register_lookup
class HasTag(Lookup):
    """``tags__has_tag="Sale"``: the JSON list of strings holds this one, ignoring case.

    Django's ``contains`` on a JSON list is PostgreSQL-only and case-sensitive; tags are matched
    case-insensitively (as on Shopify) on both databases, inside the database.
    """

    lookup_name = "has_tag"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # lhs is the compiled column reference and rhs a placeholder; values go as parameters.
        sql = "EXISTS (SELECT 1 FROM json_each(%s) WHERE lower(json_each.value) = lower(%s))"
        return sql % (lhs, rhs), (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = ("EXISTS (SELECT 1 FROM jsonb_array_elements_text(%s) AS tag(value) "
               "WHERE lower(tag.value) = lower(%s))")
        return sql % (lhs, rhs), (*lhs_params, *rhs_params)

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s", (str(value),)
