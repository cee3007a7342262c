"""``storesync serve``: the UI and API over HTTP, with the job worker in the same process.

Embedded mode (SQLite jobs) runs the worker here by default so one command is enough; with
Redis, run `storesync worker` processes separately (or pass --worker).
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules
from huey import SqliteHuey
from waitress.server import create_server

from storesync.cli.common import keyring_ready
from storesync.core.logs import get_logger

log = get_logger(__name__)


class Command(BaseCommand):
    help = "Serve the web UI and API (and run the worker in embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        worker = parser.add_mutually_exclusive_group()
        worker.add_argument(
            "--worker",
            dest="worker",
            action="store_true",
            default=None,
            help="also run the job worker in this process",
        )
        worker.add_argument(
            "--no-worker",
            dest="worker",
            action="store_false",
            help="serve only; jobs run in `storesync worker`",
        )
        parser.add_argument("--workers", type=int, default=2, help="worker threads")
        parser.add_argument(
            "--sandboxes",
            action="store_true",
            default=os.environ.get("STORESYNC_DEMO_SANDBOXES", "") == "1",
            help="demo: also run a Shopify simulator on 127.0.0.1:8711 and a WooCommerce "
            "simulator on 127.0.0.1:8712, connected to the demo workspace, with orders "
            "arriving now and then (default from STORESYNC_DEMO_SANDBOXES=1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
        # Keep the start-up objects (modules, settings, URL and schema caches) out of the
        # cyclic GC: a full collection walking them cost ~100 ms of a request's CPU, the p99 of
        # /api/v1/orders (ADR 0014).
        gc.collect()
        gc.freeze()
        server = create_server(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            ident="storesync",
        )
        run_worker = options["worker"]
        if run_worker is None:
            run_worker = isinstance(settings.HUEY, SqliteHuey)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(f"storesync serving on {url} (worker {'on' if run_worker else 'off'})")
        self.stdout.flush()
        log.info("serve_started", port=options["port"], worker=run_worker)
        sandboxes = self._sandboxes() if options["sandboxes"] else None
        try:
            if not run_worker:
                server.run()
                return
            http = threading.Thread(target=server.run, name="http", daemon=True)
            http.start()
            # Tasks register when their module is imported; nothing else imports them here.
            autodiscover_modules("tasks")
            consumer = settings.HUEY.create_consumer(workers=options["workers"],
                                                     worker_type="thread")
            try:
                consumer.run()  # blocks; SIGINT/SIGTERM stop it gracefully
            finally:
                server.close()
        finally:
            if sandboxes is not None:
                sandboxes.close()

    def _sandboxes(self) -> Any:
        from storesync.channels import demo

        channels = demo.DemoChannels.start()
        self.stdout.write(f"demo channels: Shopify simulator on {channels.shopify.url}, "
                          f"WooCommerce simulator on {channels.woo.url}")
        return channels
