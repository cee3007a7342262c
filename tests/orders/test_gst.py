from __future__ import annotations

import pytest

from storesync.core.errors import ValidationError
from storesync.orders import gst


def test_intra_state_splits_into_cgst_and_sgst():
    tax = gst.split(gross_minor=105000, rate_bp=500, supplier_state="MH",
                    destination_state="mh")
    assert (tax.taxable_minor, tax.cgst_minor, tax.sgst_minor, tax.igst_minor) == (
        100000, 2500, 2500, 0)


def test_inter_state_is_igst():
    tax = gst.split(gross_minor=118000, rate_bp=1800, supplier_state="MH",
                    destination_state="KA")
    assert (tax.taxable_minor, tax.igst_minor, tax.cgst_minor) == (100000, 18000, 0)


def test_odd_paisa_goes_to_sgst_and_parts_add_up():
    tax = gst.split(gross_minor=99999, rate_bp=1800, supplier_state="KA", destination_state="KA")
    assert tax.taxable_minor + tax.tax_minor == 99999
    assert tax.sgst_minor - tax.cgst_minor in (0, 1)


def test_prices_before_tax_and_exports():
    tax = gst.split(gross_minor=100000, rate_bp=1800, supplier_state="MH",
                    destination_state="MH", prices_include_tax=False)
    assert (tax.cgst_minor, tax.sgst_minor) == (9000, 9000)
    export = gst.split(gross_minor=100000, rate_bp=1800, supplier_state="MH",
                       destination_state="CA", destination_country="US")
    assert export.tax_minor == 0


def test_state_aliases_and_gstin():
    assert gst.normalise_state("IN-TS") == "TG"
    assert gst.normalise_state("OD") == "OR"
    assert gst.gstin_state("27AAPFU0939F1ZV") == "MH"
    assert gst.validate_gstin("27aapfu0939f1zv", field="gstin") == "27AAPFU0939F1ZV"
    with pytest.raises(ValidationError) as err:
        gst.validate_gstin("27AAPFU0939F1ZX", field="buyer_gstin")
    assert err.value.field == "buyer_gstin"
