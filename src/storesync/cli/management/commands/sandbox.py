"""``storesync sandbox PLATFORM --port N``: run a local simulator of a sales channel.

Each platform's simulator lives in ``storesync.channels.sandbox.<platform>.server`` and
exposes ``OPTIONS`` (the ``dest`` names of its own options), ``add_arguments(parser)`` (adds
them) and ``run(*, host, port, **options)``,
which serves until interrupted. The simulators need no database and no master key.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

PLATFORMS = ("shopify", "woocommerce")


def _server(platform: str) -> ModuleType:
    return importlib.import_module(f"storesync.channels.sandbox.{platform}.server")


class Command(BaseCommand):
    help = "Run a local simulator of a sales channel (Shopify, WooCommerce) on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        platforms = parser.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
        for platform in PLATFORMS:
            sub = platforms.add_parser(platform, help=f"simulate {platform}")
            sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
            sub.add_argument("--port", type=int, required=True, help="port to listen on")
            try:
                _server(platform).add_arguments(sub)
            except ModuleNotFoundError:
                continue  # listed before its simulator exists; ``handle`` says so

    def handle(self, *args: Any, **options: Any) -> None:
        platform = options.pop("platform")
        try:
            server = _server(platform)
        except ModuleNotFoundError:
            raise CommandError(f"no simulator for {platform} yet") from None
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535")
        known = {"host", "port", *getattr(server, "OPTIONS", ())}
        server.run(**{k: v for k, v in options.items() if k in known})
