"""The request-body limit, with a larger allowance for CSV import uploads.

Every body stays under ``STORESYNC_MAX_BODY_BYTES`` (1 MiB by default), except a POST to
``/api/v1/imports/`` or to the staff UI's upload page (``/imports/products/``), which may
carry a file up to ``STORESYNC_MAX_IMPORT_BYTES`` (50 MiB by default, about 300,000 product
rows). Django spools such uploads to a temporary file, so the allowance costs disk, not
memory (the idempotency middleware hashes the spooled parts, not a raw copy of the body).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from storesync.web.middleware import BodySizeLimitMiddleware as _Limit

IMPORT_PATH = "/api/v1/imports/"
WEB_IMPORT_PATH = re.compile(r"/imports/[a-z]+/")
# The staff page's form fields (mode, CSRF token) travel with the file: a file just over the
# limit then still reaches the form, which says so next to the field instead of a bare 413.
WEB_FORM_SLACK_BYTES = 64 * 1024


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.default = _Limit(get_response)
        self.imports = _Limit(get_response)
        self.imports.limit = int(settings.STORESYNC_MAX_IMPORT_BYTES)
        self.web_imports = _Limit(get_response)
        self.web_imports.limit = self.imports.limit + WEB_FORM_SLACK_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith(IMPORT_PATH):
            return self.imports(request)
        if request.method == "POST" and WEB_IMPORT_PATH.fullmatch(request.path):
            return self.web_imports(request)
        return self.default(request)
