from __future__ import annotations

import pytest

from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import location_create
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


@pytest.fixture
def stock(workspace):
    """A workspace with one product (two variants) and two locations."""
    ws = workspace.workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Cotton Kurta", options=["Size"], variants=[
            VariantInput(sku="KURTA-M", price_minor=89900, options=["M"], hsn_code="6206",
                         tax_rate_bp=500),
            VariantInput(sku="KURTA-L", price_minor=89900, options=["L"], hsn_code="6206",
                         tax_rate_bp=500),
        ]))
    with workspace_scope(ws):
        variants = {v.sku: v for v in product.variants.all()}
    main = location_create(workspace_id=ws, name="Pune warehouse", actor=ACTOR)
    store = location_create(workspace_id=ws, name="Mumbai store", kind="store", actor=ACTOR)
    return ws, variants, main, store
