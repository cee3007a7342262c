from __future__ import annotations

import pytest

from storesync.catalog import selectors
from storesync.catalog.services import ProductInput, VariantInput, product_create, product_update
from storesync.core.errors import Conflict, ValidationError
from storesync.core.money import from_minor, to_minor
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


def _tee(sku="TEE-S", **kwargs):
    variant = {"sku": sku, "price_minor": 49900, "options": ["S"], "tax_rate_bp": 500,
               "hsn_code": "6109", **kwargs}
    return ProductInput(title="Block-print Tee", options=["Size"],
                        variants=[VariantInput(**variant)])


def test_product_with_variants(workspace):
    ws = workspace.workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Block-print Tee", options=["Size", "Colour"], tags=["cotton", " cotton", "summer"],
        variants=[VariantInput(sku="TEE-S-RED", price_minor=49900, options=["S", "Red"]),
                  VariantInput(sku="TEE-M-RED", price_minor=54900, options=["M", "Red"])]))
    loaded = selectors.product_get(workspace_id=ws, product_id=product.id)
    assert loaded.handle == "block-print-tee"
    assert loaded.tags == ["cotton", "summer"]
    with workspace_scope(ws):
        titles = [v.title for v in loaded.variants.order_by("position")]
    assert titles == ["S / Red", "M / Red"]


@pytest.mark.parametrize(("change", "field"), [
    ({"sku": ""}, "variants.0.sku"),
    ({"sku": "HAS SPACE"}, "variants.0.sku"),
    ({"price_minor": -1}, "variants.0.price"),
    ({"options": []}, "variants.0.options"),
    ({"hsn_code": "12"}, "variants.0.hsn_code"),
    ({"tax_rate_bp": 1700}, "variants.0.tax_rate"),
])
def test_variant_validation_names_the_field(workspace, change, field):
    with pytest.raises(ValidationError) as err:
        product_create(workspace_id=workspace.workspace.id, actor=ACTOR, data=_tee(**change))
    assert err.value.field == field


def test_duplicate_skus_are_refused(workspace):
    ws = workspace.workspace.id
    product_create(workspace_id=ws, actor=ACTOR, data=_tee())
    with pytest.raises(Conflict) as err:
        product_create(workspace_id=ws, actor=ACTOR, data=_tee())
    assert "TEE-S" in err.value.message
    twice = _tee()
    twice.variants.append(VariantInput(sku="TEE-S", price_minor=1, options=["M"]))
    with pytest.raises(ValidationError):
        product_create(workspace_id=ws, actor=ACTOR, data=twice)


def test_same_sku_in_two_workspaces_is_fine(workspace, other_workspace):
    product_create(workspace_id=workspace.workspace.id, actor=ACTOR, data=_tee())
    product_create(workspace_id=other_workspace.workspace.id, actor=ACTOR, data=_tee())


def test_stale_update_is_a_conflict_not_a_lost_write(workspace):
    ws = workspace.workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=_tee())
    product_update(workspace_id=ws, product_id=product.id, expected_version=1,
                   changes={"title": "New title"}, actor=ACTOR)
    with pytest.raises(Conflict):
        product_update(workspace_id=ws, product_id=product.id, expected_version=1,
                       changes={"title": "Other title"}, actor=ACTOR)
    assert selectors.product_get(workspace_id=ws, product_id=product.id).title == "New title"


def test_money_is_exact():
    assert to_minor("499.50", "INR", field="price") == 49950
    assert to_minor("1000", "JPY", field="price") == 1000
    assert from_minor(49950, "INR") == "499.50"
    for bad in ("4.999", "abc", "NaN", 4.5):
        with pytest.raises(ValidationError):
            to_minor(bad, "INR", field="price")
