"""WSGI entry point for production servers (gunicorn, waitress, uWSGI).

Verifies the master key against the database before the first request: a wrong or missing
key stops the server at start-up instead of serving errors or writing under a new key.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storesync.settings")
application = get_wsgi_application()

from storesync.security.keyring import startup_check  # noqa: E402 - needs Django set up

startup_check(create_if_missing=False)

# Keep the start-up objects out of the cyclic GC: a full collection walking them cost ~100 ms
# of a request's CPU, the p99 of /api/v1/orders (ADR 0014). Servers that fork workers after
# loading this module also keep those pages shared.
gc.collect()
gc.freeze()
