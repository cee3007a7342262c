"""``storesync connection add|list|sync|subscribe|dead-letters|replay``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from storesync.channels import dispatcher, outbox, reconcile, selectors
from storesync.channels.connectors.base import ChannelError
from storesync.channels.initial import DEFAULT_DAYS, connection_initial_sync
from storesync.channels.services import connection_add, connection_subscribe, webhook_address
from storesync.cli.common import call, keyring_ready, workspace_by_slug
from storesync.security.audit import Actor


def _common(parser: CommandParser) -> None:
    parser.add_argument("--workspace", required=True, metavar="SLUG")
    parser.add_argument("--name", required=True)
    parser.add_argument("--webhook-secret", required=True, metavar="SECRET")
    parser.add_argument("--no-verify", action="store_true",
                        help="store without asking the platform to accept the credentials")


class Command(BaseCommand):
    help = "Connect a sales channel, list connections and their health, replay dead letters."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect a shop (credentials are never printed)")
        platforms = add.add_subparsers(dest="platform", required=True)
        shopify = platforms.add_parser("shopify", help="a Shopify shop (custom app token)")
        _common(shopify)
        shopify.add_argument("--shop", required=True, metavar="DOMAIN",
                             help="the shop's myshopify.com domain")
        shopify.add_argument("--access-token", required=True, metavar="TOKEN")
        woo = platforms.add_parser("woocommerce", help="a WooCommerce store (REST API keys)")
        _common(woo)
        woo.add_argument("--url", required=True, help="the store's base URL")
        woo.add_argument("--consumer-key", required=True, metavar="KEY")
        woo.add_argument("--consumer-secret", required=True, metavar="SECRET")
        listing = sub.add_parser("list", help="connections with their sync health")
        listing.add_argument("--workspace", required=True, metavar="SLUG")
        sync = sub.add_parser("sync", help="push pending stock and fetch changed orders now")
        sync.add_argument("--workspace", required=True, metavar="SLUG")
        sync.add_argument("connection_id")
        sync.add_argument("--skip-orders", action="store_true",
                          help="push stock only; do not poll the platform for orders")
        sync.add_argument("--initial", action="store_true",
                          help="first sync: match the channel's variants to the hub's by SKU "
                               "(creating listings), then import recent orders")
        sync.add_argument("--days", type=int, default=DEFAULT_DAYS,
                          help="with --initial: import orders of this many days (default 60)")
        sync.add_argument("--create-missing", action="store_true",
                          help="with --initial: create hub products for SKUs the hub lacks")
        subscribe = sub.add_parser("subscribe",
                                   help="register (or repair) the platform's webhooks")
        subscribe.add_argument("--workspace", required=True, metavar="SLUG")
        subscribe.add_argument("connection_id")
        dead = sub.add_parser("dead-letters", help="pushes parked after repeated failures")
        dead.add_argument("--workspace", required=True, metavar="SLUG")
        dead.add_argument("connection_id")
        replay = sub.add_parser("replay", help="push a connection's dead letters again")
        replay.add_argument("--workspace", required=True, metavar="SLUG")
        replay.add_argument("connection_id")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        workspace = workspace_by_slug(options["workspace"])
        action = options["action"]
        if action == "list":
            self._list(workspace.id)
        elif action == "sync" and options["initial"]:
            self._initial(workspace.id, options)
        elif action == "sync":
            self._sync(workspace.id, options["connection_id"], orders=not options["skip_orders"])
        elif action == "subscribe":
            try:
                subscribed = call(lambda: connection_subscribe(
                    workspace_id=workspace.id, connection_id=options["connection_id"]))
            except ChannelError as exc:
                raise CommandError(f"the platform refused: {exc.message}") from None
            for subscription in subscribed:
                state = "active" if subscription.active else "inactive"
                self.stdout.write(f"{subscription.platform_topic}\t{state}\t"
                                  f"{subscription.address}")
        elif action == "dead-letters":
            for item in call(lambda: selectors.dead_letters(
                    workspace_id=workspace.id, connection_id=options["connection_id"])):
                self.stdout.write(f"{item.id}\t{item.subject}\t"
                                  f"attempts {item.attempts}\t{item.last_error}")
        elif action == "replay":
            count = call(lambda: outbox.dead_letter_replay(
                workspace_id=workspace.id, connection_id=options["connection_id"],
                actor=Actor.system("cli")))
            self.stdout.write(f"replaying {count} dead letter(s)")
        else:
            self._add(workspace.id, options)

    def _add(self, workspace_id: Any, options: dict[str, Any]) -> None:
        platform = options["platform"]
        if platform == "shopify":
            credentials = {"shop": options["shop"], "access_token": options["access_token"]}
        else:
            credentials = {"url": options["url"], "consumer_key": options["consumer_key"],
                           "consumer_secret": options["consumer_secret"]}
        verify = not options["no_verify"]
        connection = call(lambda: connection_add(
            workspace_id=workspace_id, platform=platform, name=options["name"],
            credentials=credentials, webhook_secret=options["webhook_secret"],
            actor=Actor.system("cli"), verify=verify))
        self.stdout.write(f"connected {platform} as {connection.name!r}; webhooks go to "
                          f"{webhook_address(connection)}")
        if verify:
            # The connection is kept either way (`connection subscribe` tries again): a
            # platform hiccup must not undo a verified connection.
            try:
                subscribed = connection_subscribe(workspace_id=workspace_id,
                                                  connection_id=connection.id)
            except ChannelError as exc:
                self.stderr.write(f"warning: webhooks not registered: {exc.message}")
            else:
                self.stdout.write(f"webhook subscriptions: {len(subscribed)}")
        self.stdout.write(str(connection.id))

    def _sync(self, workspace_id: Any, connection_id: str, *, orders: bool) -> None:
        health = call(lambda: selectors.connection_health(workspace_id=workspace_id,
                                                          connection_id=connection_id))
        report = dispatcher.drain_connection(workspace_id=workspace_id, connection_id=health.id)
        if report.skipped:
            self.stdout.write("stock: another worker is pushing this connection right now")
        else:
            self.stdout.write(f"stock: {report.pushed} listing(s) pushed, {report.stale} stale "
                              f"re-read, {report.failed} to retry, {report.dead} dead-lettered")
        if orders:
            try:
                done = reconcile.reconcile_orders(workspace_id=workspace_id,
                                                  connection_id=health.id)
            except ChannelError as exc:
                raise CommandError(f"orders: the platform refused: {exc.message}") from None
            self.stdout.write(f"orders: {done.orders} applied, {len(done.failed)} refused, "
                              f"{done.pages} page(s){'' if done.done else ', more to fetch'}")
        if report.errors:
            raise CommandError(f"stock: {report.errors[-1]}")

    def _initial(self, workspace_id: Any, options: dict[str, Any]) -> None:
        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(desc=stage, total=total, file=sys.stderr,
                                         unit=" items", leave=True)
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            report = call(lambda: connection_initial_sync(
                workspace_id=workspace_id, connection_id=options["connection_id"],
                actor=Actor.system("cli"), create_missing=options["create_missing"],
                days=options["days"], orders=not options["skip_orders"], progress=progress))
        except ChannelError as exc:
            raise CommandError(f"the platform refused: {exc.message}") from None
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(
            f"catalog: {report.products} product(s), {report.variants} variant(s); "
            f"{report.listed} listed ({report.created} created in the hub), "
            f"{report.already_listed} already listed, {len(report.unmatched)} unmatched")
        if report.stock_not_imported:
            self.stderr.write(f"warning: {report.stock_not_imported} created variant(s) have "
                              "stock on the channel but the hub has no active location: "
                              "add one (Locations, in the web UI) and receive it there")
        for sku, reason in report.unmatched:
            self.stdout.write(f"unmatched\t{sku or '(no SKU)'}\t{reason}")
        if not options["skip_orders"]:
            self.stdout.write(f"orders: {report.orders} applied, {report.orders_refused} "
                              f"refused (last {options['days']} days)")

    def _list(self, workspace_id: Any) -> None:
        for health in selectors.connection_health_list(workspace_id=workspace_id):
            synced = health.last_synced_at.isoformat() if health.last_synced_at else "never"
            line = (f"{health.id}\t{health.platform}\t{health.name}\tlast sync {synced}\t"
                    f"pending {health.pending}\tdead {health.dead_letters}")
            if health.throttled_until:
                line += f"\tthrottled until {health.throttled_until.isoformat()}"
            if health.last_error:
                line += f"\tlast error: {health.last_error}"
            self.stdout.write(line)
