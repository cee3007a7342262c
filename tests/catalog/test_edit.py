"""Editing a product with its variants under one version; search by title or SKU."""

from __future__ import annotations

import pytest

from storesync.catalog import selectors, services
from storesync.catalog.models import Variant
from storesync.core.errors import Conflict, ValidationError
from storesync.core.tenancy import workspace_scope
from tests.conftest import ACTOR


def _variant(ws, sku: str) -> Variant:
    with workspace_scope(ws):
        return Variant.objects.get(sku=sku)


def test_variant_changes_share_the_products_version(stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    medium = variants["KURTA-M"]
    product = services.product_update(
        workspace_id=ws, product_id=product_id, expected_version=1, actor=ACTOR,
        changes={"title": "Kurta"}, variant_changes={medium.id: {"price_minor": 99900,
                                                                 "tax_rate_bp": 1200}})
    assert product.version == 2
    saved = _variant(ws, "KURTA-M")
    assert (saved.price_minor, saved.tax_rate_bp, saved.version) == (99900, 1200, 2)
    with pytest.raises(Conflict):  # version 1 is stale now: nothing of this write lands
        services.product_update(workspace_id=ws, product_id=product_id, expected_version=1,
                                actor=ACTOR, changes={},
                                variant_changes={medium.id: {"price_minor": 1}})
    assert _variant(ws, "KURTA-M").price_minor == 99900


def test_bad_variant_changes_name_the_field_and_roll_back(stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    large = variants["KURTA-L"]
    for change, field in [({"hsn_code": "12"}, "variants.1.hsn_code"),
                          ({"tax_rate_bp": 700}, "variants.1.tax_rate"),
                          ({"price_minor": -1}, "variants.1.price"),
                          ({"sku": "NEW"}, "variants.1.sku")]:
        with pytest.raises(ValidationError) as error:
            services.product_update(workspace_id=ws, product_id=product_id,
                                    expected_version=None, actor=ACTOR,
                                    changes={"title": "Changed"},
                                    variant_changes={large.id: change})
        assert error.value.field == field
    assert _variant(ws, "KURTA-L").hsn_code == "6206"
    assert selectors.product_get(workspace_id=ws, product_id=product_id).title == "Cotton Kurta"


def test_a_variant_of_another_product_is_refused(stock):
    ws, variants, *_ = stock
    other = services.product_create(workspace_id=ws, actor=ACTOR, data=services.ProductInput(
        title="Saree", variants=[services.VariantInput(sku="SAREE-1", price_minor=100)]))
    with pytest.raises(ValidationError):
        services.product_update(workspace_id=ws, product_id=other.id, expected_version=None,
                                actor=ACTOR, changes={},
                                variant_changes={variants["KURTA-M"].id: {"price_minor": 1}})


def test_search_matches_title_or_sku(stock):
    ws, *_ = stock
    services.product_create(workspace_id=ws, actor=ACTOR, data=services.ProductInput(
        title="Silk Saree", variants=[services.VariantInput(sku="SAREE-RED", price_minor=100)]))

    def titles(text: str) -> list[str]:
        return [p.title for p in selectors.product_list(workspace_id=ws, search=text).items]

    assert titles("saree-r") == ["Silk Saree"]
    assert titles("COTTON") == ["Cotton Kurta"]
    assert titles("kurta-l") == ["Cotton Kurta"]
    assert titles("nothing") == []


def test_variant_add_checks_like_create_and_bumps_the_version(stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    added = services.variant_add(workspace_id=ws, product_id=product_id, expected_version=1,
                                 actor=ACTOR, data=services.VariantInput(
                                     sku="KURTA-S", price_minor=79900, options=["S"]))
    assert (added.position, added.option1) == (3, "S")
    assert selectors.product_get(workspace_id=ws, product_id=product_id).version == 2
    cases = [(1, services.VariantInput(sku="KURTA-XS", price_minor=1, options=["XS"]), Conflict),
             (None, services.VariantInput(sku="KURTA-M", price_minor=1, options=["XS"]), Conflict),
             (None, services.VariantInput(sku="KURTA-2", price_minor=1, options=["S"]),
              ValidationError),
             (None, services.VariantInput(sku="KURTA-3", price_minor=1, options=[]),
              ValidationError)]
    for version, data, error in cases:
        with pytest.raises(error):
            services.variant_add(workspace_id=ws, product_id=product_id, actor=ACTOR,
                                 expected_version=version, data=data)
    with workspace_scope(ws):
        assert Variant.objects.filter(product_id=product_id).count() == 3
