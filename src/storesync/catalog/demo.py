"""Generated demo catalogue: an Indian lifestyle shop's products, with HSN codes and GST rates
that fit each product type. Made through ``catalog.services.product_create``, like any import.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product as combinations

from storesync.catalog.models import ProductStatus, Variant
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor

SIZES = ["S", "M", "L", "XL", "XXL"]
COLOURS = ["Black", "White", "Navy", "Maroon", "Mustard", "Olive", "Indigo", "Peach"]
UK_SIZES = ["UK 6", "UK 7", "UK 8", "UK 9", "UK 10"]
WEIGHTS = ["250 g", "500 g", "1 kg"]


@dataclass(frozen=True)
class Kind:
    """A product type: what it is called, how it varies, and how India taxes it."""

    product_type: str
    nouns: tuple[str, ...]
    hsn_code: str
    tax_rate_bp: int
    price_rupees: tuple[int, ...]
    options: tuple[tuple[str, list[str]], ...]
    weight_grams: int
    vendors: tuple[str, ...]


# Apparel and footwear up to Rs 2,500 and most packaged food are 5 % since the 2025 GST
# reform; electronics, bags and cosmetics are 18 %.
KINDS = [
    Kind("T-Shirt", ("Cotton Crew Tee", "Graphic Tee", "Polo T-Shirt", "Oversized Tee"), "6109",
         500, (399, 499, 699, 799), (("Size", SIZES), ("Colour", COLOURS)), 180,
         ("Chai Threads", "Bombay Basics")),
    Kind("Kurta", ("Cotton Kurta", "Block Print Kurta", "Linen Kurta", "Chikankari Kurta"),
         "6211", 500, (899, 1199, 1499, 1899), (("Size", SIZES), ("Colour", COLOURS)), 300,
         ("Jaipur Loom", "Lucknow Weaves")),
    Kind("Saree", ("Cotton Saree", "Banarasi Silk Saree", "Chanderi Saree", "Ikat Saree"),
         "5208", 500, (1299, 1799, 2299), (("Colour", COLOURS),), 650,
         ("Varanasi Handloom", "Pochampally Crafts")),
    Kind("Footwear", ("Kolhapuri Chappal", "Canvas Sneaker", "Leather Mojari", "Slip-On Loafer"),
         "6403", 500, (799, 1299, 1999, 2499), (("Size", UK_SIZES),), 700,
         ("Kolhapur Leather Co", "Stride India")),
    Kind("Bedsheet", ("Jaipuri Double Bedsheet", "Cotton Bedsheet Set", "Dohar Set"), "6302",
         500, (999, 1399, 1799), (("Colour", COLOURS),), 900, ("Sanganer Home",)),
    Kind("Tea", ("Assam CTC Tea", "Darjeeling First Flush", "Masala Chai Blend", "Nilgiri Tea"),
         "0902", 500, (249, 399, 599), (("Weight", WEIGHTS),), 500,
         ("Brahmaputra Estates", "Nilgiri Leaf")),
    Kind("Spices", ("Garam Masala", "Kashmiri Chilli Powder", "Turmeric Powder", "Sambar Masala"),
         "0910", 500, (149, 199, 299), (("Weight", WEIGHTS),), 250, ("Kerala Spice Route",)),
    Kind("Ghee", ("A2 Cow Ghee", "Desi Ghee", "Buffalo Ghee"), "0405", 500, (699, 999, 1499),
         (("Weight", ["500 ml", "1 l"]),), 1000, ("Gir Dairy",)),
    Kind("Earphones", ("Wireless Earbuds", "Neckband Earphones", "Wired Earphones"), "8518",
         1800, (999, 1499, 1999, 2999), (("Colour", ["Black", "White", "Blue"]),), 120,
         ("Sonic Bharat", "Boltt Audio")),
    Kind("Power Bank", ("10000 mAh Power Bank", "20000 mAh Power Bank", "Slim Power Bank"),
         "8507", 1800, (899, 1299, 1799), (("Colour", ["Black", "White"]),), 300,
         ("Sonic Bharat",)),
    Kind("Backpack", ("Laptop Backpack", "Travel Rucksack", "College Backpack"), "4202", 1800,
         (1199, 1699, 2499), (("Colour", ["Black", "Grey", "Navy", "Olive"]),), 800,
         ("Trek Mumbai",)),
    Kind("Skin Care", ("Kumkumadi Face Oil", "Ubtan Face Wash", "Aloe Vera Gel", "Rose Water"),
         "3304", 1800, (299, 449, 699, 999), (("Size", ["50 ml", "100 ml", "200 ml"]),), 150,
         ("Ayurveda Roots", "Kannauj Naturals")),
]


@dataclass(frozen=True)
class DemoVariant:
    """What the order generator needs to know of a variant."""

    id: uuid.UUID
    sku: str
    price_minor: int
    product_type: str


def _ean13(rng: random.Random) -> str:
    """A GS1 India (890) barcode with a valid check digit."""
    body = "890" + "".join(rng.choice("0123456789") for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _combinations(kind: Kind) -> int:
    total = 1
    for _, values in kind.options:
        total *= len(values)
    return total


def _variant_counts(rng: random.Random, maxima: list[int], variants: int) -> list[int]:
    """Between 1 and each product's maximum (at most 6), adding up to exactly ``variants``."""
    counts = [1] * len(maxima)
    spare = variants - len(maxima)
    if spare > sum(m - 1 for m in maxima):
        raise ValueError(f"{len(maxima)} products cannot have {variants} variants")
    while spare > 0:
        index = rng.randrange(len(maxima))
        if counts[index] < maxima[index]:
            counts[index] += 1
            spare -= 1
    return counts


def _product_input(rng: random.Random, index: int, kind: Kind, count: int) -> ProductInput:
    noun = rng.choice(kind.nouns)
    vendor = rng.choice(kind.vendors)
    combos = list(combinations(*(values for _, values in kind.options)))
    rng.shuffle(combos)
    base = rng.choice(kind.price_rupees)
    code = "".join(w[0] for w in kind.product_type.upper().split())[:3].ljust(3, "X")
    variants = []
    for number, combo in enumerate(sorted(combos[:count]), start=1):
        # Bigger sizes and packs cost more; every price ends in 9, as shops price.
        step = number - 1 if kind.options[0][0] in ("Weight", "Size") else 0
        price = base + step * max(base // 4 // 10 * 10, 50)
        variants.append(VariantInput(
            sku=f"{code}-{index:04d}-{number}", price_minor=price * 100,
            options=list(combo), barcode=_ean13(rng),
            compare_at_minor=price * 100 * 5 // 4 if rng.random() < 0.3 else None,
            cost_minor=price * 100 * rng.randint(40, 60) // 100,
            weight_grams=kind.weight_grams, hsn_code=kind.hsn_code,
            tax_rate_bp=kind.tax_rate_bp,
        ))
    return ProductInput(
        title=f"{vendor} {noun}", handle=f"{noun}-{index}", vendor=vendor,
        description=f"{noun} by {vendor}.", product_type=kind.product_type,
        status=ProductStatus.ACTIVE, tags=[kind.product_type.lower()],
        options=[name for name, _ in kind.options], variants=variants,
    )


def max_variants(products: int) -> int:
    """The most variants ``products`` demo products can have (each kind has so many options)."""
    return sum(min(6, _combinations(KINDS[index % len(KINDS)])) for index in range(products))


def generate_catalog(*, workspace_id: uuid.UUID, products: int, variants: int, seed: int,
                     progress: Callable[[int], object] | None = None) -> list[DemoVariant]:
    """Create ``products`` active products with ``variants`` variants in all."""
    if not 0 < products <= variants:
        raise ValueError("at least one variant per product")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    actor = Actor.system("demo")
    kinds = [KINDS[index % len(KINDS)] for index in range(products)]
    counts = _variant_counts(rng, [min(6, _combinations(k)) for k in kinds], variants)
    for index, (kind, count) in enumerate(zip(kinds, counts, strict=True)):
        product_create(workspace_id=workspace_id, actor=actor,
                       data=_product_input(rng, index + 1, kind, count))
        if progress:
            progress(1)
    with workspace_scope(workspace_id):
        rows = Variant.objects.values_list("id", "sku", "price_minor", "product__product_type")
        return [DemoVariant(*row) for row in rows.order_by("sku")]
