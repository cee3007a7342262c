"""The REST API, version 1: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``."""

from __future__ import annotations

from ninja import NinjaAPI

from storesync import __version__
from storesync.api import (
    bulk,
    catalog,
    channels,
    checkouts,
    collections,
    customers,
    draft_orders,
    errors,
    images,
    inventory,
    jobs,
    order_operations,
    orders,
    privacy,
    privacy_rights,
    workspace,
)
from storesync.api.auth import TokenAuth

api = NinjaAPI(
    title="storesync API",
    version=f"1 ({__version__})",
    description=(
        "Bearer tokens (`storesync token create`) are bound to one workspace and one role. "
        'Errors are JSON: `{"error": {"code", "message", "field"}}`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url=None,
)
errors.install(api)
api.add_router("/workspace", workspace.router)
api.add_router("/customers", customers.router)
api.add_router("/products", catalog.router)
api.add_router("/products", images.router)
api.add_router("/collections", collections.router)
api.add_router("/inventory", inventory.router)
api.add_router("/orders", orders.router)
api.add_router("/orders", order_operations.router)
api.add_router("/draft-orders", draft_orders.router)
api.add_router("/abandoned-checkouts", checkouts.router)
api.add_router("/connections", channels.router)
api.add_router("/imports", bulk.imports)
api.add_router("/exports", bulk.exports)
api.add_router("/jobs", jobs.router)
api.add_router("/privacy", privacy.router)
api.add_router("/privacy", privacy_rights.router)
api.add_router("/privacy/public", privacy_rights.public)
