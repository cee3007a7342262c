"""Permissions and the built-in roles. Custom roles (``core.Role``) are sets of these."""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    VIEW_PERSONAL_DATA = "view_personal_data"
    VIEW_CUSTOMERS = "view_customers"
    MANAGE_CUSTOMERS = "manage_customers"
    VIEW_ORDERS = "view_orders"
    MANAGE_ORDERS = "manage_orders"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_INVENTORY = "manage_inventory"
    MANAGE_CHANNELS = "manage_channels"
    VIEW_REPORTS = "view_reports"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TOKENS = "manage_tokens"
    VIEW_AUDIT = "view_audit"
    MANAGE_PRIVACY = "manage_privacy"
    MANAGE_WORKSPACE = "manage_workspace"


ALL = frozenset(Perm)

BUILTIN_ROLES: dict[str, frozenset[Perm]] = {
    "owner": ALL,
    "admin": ALL - {Perm.MANAGE_WORKSPACE},
    "manager": frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.VIEW_CUSTOMERS,
            Perm.MANAGE_CUSTOMERS,
            Perm.VIEW_ORDERS,
            Perm.MANAGE_ORDERS,
            Perm.MANAGE_CATALOG,
            Perm.MANAGE_INVENTORY,
            Perm.MANAGE_CHANNELS,
            Perm.VIEW_REPORTS,
        }
    ),
    # Staff pick, pack and ship: they need the customer's contact and address, nothing more.
    "staff": frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.VIEW_CUSTOMERS,
            Perm.VIEW_ORDERS,
            Perm.MANAGE_ORDERS,
            Perm.MANAGE_INVENTORY,
        }
    ),
    # Viewers see the business (reports, masked lists), never a customer's personal data.
    "viewer": frozenset({Perm.VIEW_CUSTOMERS, Perm.VIEW_ORDERS, Perm.VIEW_REPORTS}),
}

# Roles whose members must enrol a second factor before any personal data is shown to them.
MFA_REQUIRED_PERMISSION = Perm.VIEW_PERSONAL_DATA


def parse_permissions(values: list[str]) -> frozenset[Perm]:
    """Turn permission names into ``Perm``; raises ``ValueError`` naming the unknown one."""
    out = set()
    for value in values:
        try:
            out.add(Perm(value))
        except ValueError:
            raise ValueError(f"unknown permission {value!r}") from None
    return frozenset(out)
