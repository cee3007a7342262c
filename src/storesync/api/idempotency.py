"""``Idempotency-Key`` on API POSTs: a retried create returns the first response.

Middleware, so that it sees the finished response whatever the endpoint. The first request
with a key claims it (a row with no status yet) in its own transaction; the request runs; a
response below 500 is stored. A retry with the same key and body gets the stored response
(``Idempotent-Replayed: true``); the same key with another body is a 422; a retry while the
first is still running is a 409; after a 5xx the claim is dropped so that a retry runs again.
Keys are per token and expire after 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from storesync.api.errors import json_error
from storesync.api.models import IdempotencyKey
from storesync.core.tenancy import workspace_scope
from storesync.security.tokens import token_authenticate

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
Handler = Callable[[HttpRequest], HttpResponse]


def _fingerprint(request: HttpRequest) -> str:
    """What makes two requests "the same": method, path and content.

    A multipart upload is fingerprinted by its parsed parts (fields, file names, types and a
    SHA-256 of each file's bytes), not its raw bytes: a client's retry carries a new random
    boundary, so raw bodies of the same upload differ. The files Django spooled to disk are
    read in chunks and rewound for the handler, so a 50 MiB import never sits in memory.
    """
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type != "multipart/form-data":
        digest.update(request.body)
        return digest.hexdigest()
    digest.update(json.dumps(sorted(request.POST.lists())).encode())
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            digest.update(json.dumps([name, upload.name, upload.content_type]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if len(key) > 255:
            return json_error(400, "invalid", "Idempotency-Key is at most 255 characters", HEADER)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        token = token_authenticate(presented.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return self.get_response(request)  # the API answers 401 itself
        try:
            actor, fingerprint = str(token.id), _fingerprint(request)
        except MultiPartParserError:
            return json_error(400, "invalid", "the multipart body could not be read", "body")
        with workspace_scope(token.workspace_id):
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.filter(
                        actor=actor, key=key, created_at__lt=timezone.now() - TTL).delete()
                    claim = IdempotencyKey.objects.create(
                        workspace_id=token.workspace_id, actor=actor, key=key,
                        fingerprint=fingerprint)
            except IntegrityError:
                return self._answer_retry(actor, key, fingerprint)
        response = self.get_response(request)
        with workspace_scope(token.workspace_id):
            if response.status_code >= 500:
                IdempotencyKey.objects.filter(id=claim.id).delete()
            else:
                claim.status = response.status_code
                claim.body = response.content.decode()
                claim.save(update_fields=["status", "body"])
        return response

    @staticmethod
    def _answer_retry(actor: str, key: str, fingerprint: str) -> HttpResponse:
        earlier = IdempotencyKey.objects.get(actor=actor, key=key)
        if earlier.fingerprint != fingerprint:
            return json_error(422, "idempotency_key_reused",
                              "this Idempotency-Key was used for a different request", HEADER)
        if earlier.status is None:
            return json_error(409, "in_progress",
                              "a request with this Idempotency-Key is still running", HEADER)
        replay = HttpResponse(earlier.body or "", status=earlier.status,
                              content_type="application/json")
        replay["Idempotent-Replayed"] = "true"
        return replay
