"""``storesync demo``: a demo workspace with generated (Faker) data and a printed login."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from storesync.channels.demo import demo_connections_create
from storesync.cli.common import call, keyring_ready
from storesync.core.models import User, Workspace
from storesync.core.services import workspace_create
from storesync.customers import demo as customer_demo
from storesync.security.audit import Actor

DEMO_OWNER = "owner@demo.example"


class Command(BaseCommand):
    help = "Create the demo workspace with generated data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", default="demo", metavar="SLUG")
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the workspace already exists"
        )
        parser.add_argument(
            "--reset-password", action="store_true", help="print a new password for the demo owner"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        slug = options["workspace"]
        existing = Workspace.objects.filter(slug=slug).first()
        if options["reset_password"]:
            owner = User.objects.filter(email=DEMO_OWNER).first()
            if owner is None:
                self.stderr.write("no demo owner yet: run `storesync demo` first")
                raise SystemExit(1)
            password = secrets.token_urlsafe(12)
            owner.set_password(password)
            owner.save(update_fields=["password"])
            self.stdout.write(f"new password for {DEMO_OWNER} (shown once):")
            self.stdout.write(password)
            return
        if existing is not None:
            if options["if_empty"]:
                self.stdout.write(
                    f"demo workspace {slug!r} already exists; sign in as {DEMO_OWNER} "
                    "(forgot the password? `storesync demo --reset-password`)"
                )
                return
            self.stderr.write(f"workspace {slug!r} exists already")
            raise SystemExit(1)
        created = call(
            lambda: workspace_create(
                slug=slug,
                name="Demo Store",
                owner_email=DEMO_OWNER,
                country="IN",
                actor=Actor.system("demo"),
            )
        )
        count = customer_demo.generate_customers(
            workspace_id=created.workspace.id, count=options["customers"], seed=options["seed"]
        )
        self.stdout.write(f"demo workspace {slug!r}: {count} generated customers")
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
