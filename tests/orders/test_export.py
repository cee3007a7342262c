"""Orders CSV: one row per line with the GST split, never any personal data."""

from __future__ import annotations

import csv
import io

from storesync.customers.services import AddressInput
from storesync.inventory.services import stock_receive
from storesync.orders.export import orders_csv
from storesync.orders.services import LineInput, OrderInput, order_create
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


def test_order_lines_export_without_personal_data(stock):
    ws, variants, main, _store = stock
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id, location_id=main.id,
                  quantity=5, actor=ACTOR)
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-L"].id, location_id=main.id,
                  quantity=5, actor=ACTOR)
    order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=2), LineInput(sku="KURTA-L", quantity=1)],
        email="meera.iyer@example.com", location_id=main.id,
        shipping_address=AddressInput(name="Meera Iyer", line1="9 Anna Salai", city="Chennai",
                                      postcode="600002", province_code="TN",
                                      phone="+91 94440 12345")))
    text = "".join(orders_csv(workspace_id=ws))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["sku"], r["quantity"]) for r in rows] == [("KURTA-M", "2"), ("KURTA-L", "1")]
    first = rows[0]
    assert first["order_number"] == "1001" and first["unit_price"] == "899.00"
    assert first["place_of_supply"] == "TN" and first["tax_rate"] == "5"
    tax = sum(int(first[k].replace(".", "")) for k in ("cgst", "sgst", "igst"))
    assert int(first["taxable_value"].replace(".", "")) + tax == 179800
    for secret in ("Meera", "meera.iyer", "Anna Salai", "600002", "94440"):
        assert secret not in text
