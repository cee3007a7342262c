"""``storesync migrate``: create the database if needed, migrate it, set up the keyring."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrate

from storesync.cli.common import keyring_ready
from storesync.cli.database import ensure_database_exists


class Command(DjangoMigrate):
    help = "Create or upgrade the database schema; creates the master key file on first run."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_database_exists()
        super().handle(*args, **options)
        if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
            call_command("createcachetable", verbosity=0)
        keyring_ready(create_if_missing=True)
