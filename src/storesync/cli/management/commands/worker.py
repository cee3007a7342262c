"""``storesync worker``: run background jobs (any number of these against Redis)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules

from storesync.cli.common import keyring_ready


class Command(BaseCommand):
    help = "Run the background job worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring_ready()
        # Tasks register when their module is imported; nothing else imports them here.
        autodiscover_modules("tasks")
        consumer = settings.HUEY.create_consumer(workers=options["workers"], worker_type="thread")
        self.stdout.write(f"storesync worker running with {options['workers']} threads")
        self.stdout.flush()
        consumer.run()
