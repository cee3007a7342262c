"""Mapping edge cases that the simulator does not produce: WooCommerce JSON as documented."""

from __future__ import annotations

from storesync.channels.connectors.woocommerce.mapping import order_from, product_from


def test_a_variation_managed_by_its_parent_shares_the_parent_stock_item():
    product = {"id": 10, "name": "Tee", "type": "variable", "status": "publish",
               "attributes": [{"name": "Size", "variation": True, "options": ["S", "M"]}]}
    variations = [
        {"id": 11, "sku": "T-S", "regular_price": "10.00", "sale_price": "8.50",
         "manage_stock": "parent", "attributes": [{"name": "Size", "option": "S"}]},
        {"id": 12, "sku": "T-M", "regular_price": "10.00", "sale_price": "",
         "manage_stock": True, "attributes": [{"name": "Size", "option": "M"}]},
    ]
    mapped = product_from(product, variations, "INR")
    small, medium = mapped.variants
    assert (small.inventory_item_id, medium.inventory_item_id) == ("10", "10/12")
    assert (small.price_minor, small.compare_at_minor) == (850, 1000)
    assert (medium.price_minor, medium.compare_at_minor) == (1000, None)


def test_a_coupon_discount_lands_on_the_line_without_losing_a_paisa():
    order = {"id": 5, "number": "5", "currency": "INR", "status": "processing",
             "date_created_gmt": "2026-01-02T03:04:05", "date_modified_gmt": "2026-01-02T03:04:05",
             "shipping_total": "0.00", "total": "900.00", "billing": {},
             "line_items": [{"id": 1, "sku": "A", "name": "A", "quantity": 3,
                             "subtotal": "1000.00", "total": "900.00", "product_id": 7,
                             "variation_id": 0}]}
    (line,) = order_from(order, [], []).lines
    assert line.unit_price_minor == 33333  # 333.33 a piece
    assert line.unit_price_minor * 3 - line.discount_minor == 90000  # what the buyer paid
