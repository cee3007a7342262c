"""One-time codes that prove the requester controls an email address.

Six digits, stored as an HMAC (keyed with the project's secret and bound to the request), good
for 15 minutes and 5 attempts. Submissions and attempts are rate-limited per email and per
client address through Django's cache (Redis in production), so neither a flood of requests
nor guessing across many requests gets anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache

from storesync.core.errors import StoresyncError

CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5
SUBMISSIONS_PER_EMAIL_HOUR = 5
SUBMISSIONS_PER_IP_HOUR = 20
ATTEMPTS_PER_IP_HOUR = 30


class Throttled(StoresyncError):
    status = 429
    code = "throttled"


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(request_id: object, code: str) -> str:
    key = hashlib.sha256(b"privacy-code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(request_id: object, code: str, stored: str) -> bool:
    return bool(stored) and hmac.compare_digest(code_hash(request_id, code.strip()), stored)


def _hit(key: str, limit: int, timeout_s: int = 3600) -> bool:
    """Count one event; True while the count stays within ``limit``."""
    if cache.add(key, 1, timeout=timeout_s):
        return True
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=timeout_s)
        count = 1
    return count <= limit


def throttle_submission(*, email_key: str, client_ip: str) -> None:
    """Raise ``Throttled`` past the hourly limits; ``email_key`` is a digest, never the email."""
    if not _hit(f"privacy:submit:ip:{client_ip}", SUBMISSIONS_PER_IP_HOUR):
        raise Throttled("too many requests from this network; try again in an hour")
    if not _hit(f"privacy:submit:email:{email_key}", SUBMISSIONS_PER_EMAIL_HOUR):
        raise Throttled("too many requests for this email address; try again in an hour")


def throttle_attempt(*, client_ip: str) -> None:
    if not _hit(f"privacy:verify:ip:{client_ip}", ATTEMPTS_PER_IP_HOUR):
        raise Throttled("too many verification attempts from this network; try again later")


def email_key(normalised_email: str) -> str:
    key = hashlib.sha256(b"privacy-throttle:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, normalised_email.encode(), hashlib.sha256).hexdigest()[:32]
