"""storesync's settings plus the plain-text baseline app, for benchmarks only."""

from storesync.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "plainapp"]  # noqa: F405
