"""Indian GST on an order line: CGST + SGST within a state, IGST across states.

The place of supply for goods shipped to a buyer is the state they are delivered to; the
supplier's state is that of the dispatching location (or of the seller's GSTIN). States are
ISO 3166-2:IN codes (``MH``); GSTIN state numbers map onto them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import gstin as stdnum_gstin

from storesync.core.errors import ValidationError

# GSTIN state number -> ISO 3166-2:IN subdivision code.
GST_STATE_TO_ISO = {
    "01": "JK", "02": "HP", "03": "PB", "04": "CH", "05": "UK", "06": "HR", "07": "DL",
    "08": "RJ", "09": "UP", "10": "BR", "11": "SK", "12": "AR", "13": "NL", "14": "MN",
    "15": "MZ", "16": "TR", "17": "ML", "18": "AS", "19": "WB", "20": "JH", "21": "OR",
    "22": "CT", "23": "MP", "24": "GJ", "25": "DH", "26": "DH", "27": "MH", "28": "AP",
    "29": "KA", "30": "GA", "31": "LD", "32": "KL", "33": "TN", "34": "PY", "35": "AN",
    "36": "TG", "37": "AP", "38": "LA",
}
# Other spellings in use (older ISO codes, platform variants) -> the codes above.
ALIASES = {"OD": "OR", "TS": "TG", "UT": "UK", "CG": "CT", "DD": "DH", "DN": "DH"}


def normalise_state(code: str) -> str:
    code = code.strip().upper().removeprefix("IN-")
    return ALIASES.get(code, code)


def validate_gstin(value: str, *, field: str) -> str:
    try:
        return str(stdnum_gstin.validate(value))
    except StdnumError as exc:
        raise ValidationError(f"not a valid GSTIN: {exc}", field=field) from None


def gstin_state(gstin: str) -> str:
    return GST_STATE_TO_ISO[gstin[:2]]


@dataclass(frozen=True)
class TaxSplit:
    taxable_minor: int
    cgst_minor: int
    sgst_minor: int
    igst_minor: int

    @property
    def tax_minor(self) -> int:
        return self.cgst_minor + self.sgst_minor + self.igst_minor


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def split(*, gross_minor: int, rate_bp: int, supplier_state: str, destination_state: str,
          destination_country: str = "IN", prices_include_tax: bool = True) -> TaxSplit:
    """Tax on a line whose amount after discounts is ``gross_minor``.

    Exports (destination outside India) are zero-rated. Intra-state halves the rate into CGST
    and SGST; the odd paisa goes to SGST so the parts always add up.
    """
    if destination_country.upper() != "IN" or rate_bp == 0:
        return TaxSplit(gross_minor, 0, 0, 0)
    if prices_include_tax:
        taxable = _round_half_up(gross_minor * 10_000, 10_000 + rate_bp)
        tax = gross_minor - taxable
    else:
        taxable = gross_minor
        tax = _round_half_up(gross_minor * rate_bp, 10_000)
    if normalise_state(supplier_state) == normalise_state(destination_state):
        cgst = tax // 2
        return TaxSplit(taxable, cgst, tax - cgst, 0)
    return TaxSplit(taxable, 0, 0, tax)
