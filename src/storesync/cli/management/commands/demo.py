"""``storesync demo``: a demo workspace filled like a believable Indian shop, with a printed
login. The catalogue, locations and customers go through the domain services; the 90 days of
orders and their stock are played in time order by ``orders.demo`` and ``inventory.demo``
under the same rules and written in bulk (ADR 0022), so stock, reservations and the ledger
agree as they would after real use, and every event lies in the past."""

from __future__ import annotations

import secrets
import sys
import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from storesync.catalog import demo as catalog_demo
from storesync.channels.demo import demo_connections_create
from storesync.cli.common import call, keyring_ready
from storesync.core.models import User, Workspace
from storesync.core.services import workspace_create
from storesync.customers import demo as customer_demo
from storesync.inventory import demo as inventory_demo
from storesync.orders import demo as order_demo
from storesync.security.audit import Actor

DEMO_OWNER = "owner@demo.example"


class Command(BaseCommand):
    help = "Create the demo workspace: catalogue, stock in three locations, customers, orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", default="demo", metavar="SLUG")
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--variants", type=int, default=600)
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=90, help="orders span this many days")
        parser.add_argument("--seed", type=int, default=None, help="same seed, same shop")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the workspace already exists"
        )
        parser.add_argument(
            "--reset-password", action="store_true", help="print a new password for the demo owner"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        if options["reset_password"]:
            self._reset_password()
            return
        slug = options["workspace"]
        if Workspace.objects.filter(slug=slug).exists():
            if options["if_empty"]:
                self.stdout.write(
                    f"demo workspace {slug!r} already exists; sign in as {DEMO_OWNER} "
                    "(forgot the password? `storesync demo --reset-password`)"
                )
                return
            raise CommandError(f"workspace {slug!r} exists already")
        for name in ("products", "customers", "orders", "days"):
            if options[name] < (1 if name in ("products", "days") else 0):
                raise CommandError(f"--{name} is too small")
        most = catalog_demo.max_variants(options["products"])
        if not options["products"] <= options["variants"] <= most:
            raise CommandError(f"--variants is between {options['products']} (one per "
                               f"product) and {most} for {options['products']} products")
        created = call(
            lambda: workspace_create(
                slug=slug,
                name="Demo Store",
                owner_email=DEMO_OWNER,
                country="IN",
                actor=Actor.system("demo"),
            )
        )
        summary = self._fill(created.workspace.id, options)
        self.stdout.write(f"demo workspace {slug!r}: {summary}")
        demo_connections_create(workspace_id=created.workspace.id)
        self.stdout.write(
            "demo channels: Shopify simulator on 127.0.0.1:8711, WooCommerce simulator on "
            "127.0.0.1:8712 (they run inside `storesync serve --sandboxes`, as `make run` does)"
        )
        self.stdout.write(
            "sign in at http://127.0.0.1:8000/accounts/login/ as "
            f"{DEMO_OWNER}; you will be asked to enrol MFA (TOTP)"
        )
        if created.password:
            self.stdout.write("one-time password (shown once):")
            self.stdout.write(created.password)

    def _fill(self, workspace_id: uuid.UUID, options: dict[str, Any]) -> str:
        seed = options["seed"] if options["seed"] is not None else secrets.randbelow(2**31)
        total = options["products"] + options["variants"] + options["orders"]
        bar = tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True,
                   disable=options["no_progress"] or None)  # None: off when not a terminal
        with bar:
            bar.set_description("catalogue")
            variants = call(lambda: catalog_demo.generate_catalog(
                workspace_id=workspace_id, products=options["products"],
                variants=options["variants"], seed=seed, progress=bar.update))
            locations = call(lambda: inventory_demo.generate_locations(workspace_id=workspace_id))
            bar.set_description("customers")
            customers = call(lambda: customer_demo.generate_customers(
                workspace_id=workspace_id, count=options["customers"], seed=seed))
            now = timezone.now()
            plan = order_demo.plan_orders(
                count=options["orders"], days=options["days"], customers=customers,
                variants=variants, locations=locations, seed=seed, now=now)
            bar.set_description("orders")
            stock = inventory_demo.StockHistory(workspace_id=workspace_id,
                                                actor=Actor.system("demo"))
            # Received the day before the first order, so the ledger starts with it.
            received = inventory_demo.generate_stock(
                stock=stock, variant_ids=[v.id for v in variants], locations=locations,
                demand=order_demo.demand(plan, variants), seed=seed,
                at=(plan[0].placed_at if plan and plan[0].placed_at else now)
                - timedelta(days=1))
            bar.update(len(variants))
            stats = call(lambda: order_demo.place_orders(
                workspace_id=workspace_id, plan=plan, seed=seed, stock=stock, now=now,
                progress=bar.update))
        return (f"{options['products']} products, {len(variants)} variants, "
                f"{len(locations)} locations ({received:,} units received), "
                f"{len(customers)} customers, {stats.created} orders "
                f"({stats.fulfilled} fulfilled, {stats.cancelled} cancelled"
                + (f", {stats.skipped} not taken for lack of stock" if stats.skipped else "")
                + f"); seed {seed}")

    def _reset_password(self) -> None:
        owner = User.objects.filter(email=DEMO_OWNER).first()
        if owner is None:
            raise CommandError("no demo owner yet: run `storesync demo` first")
        password = secrets.token_urlsafe(12)
        owner.set_password(password)
        owner.save(update_fields=["password"])
        self.stdout.write(f"new password for {DEMO_OWNER} (shown once):")
        self.stdout.write(password)
