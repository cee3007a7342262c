"""The keyring: master key, wrapped per-workspace data keys, and the ciphers built from them.

Key hierarchy::

    master key (STORESYNC_MASTER_KEY, or a 0600 key file; never stored in the database)
      ├─ HKDF "kek"     -> wraps every DataKey (AES-256-GCM, AD = workspace + key id)
      ├─ HKDF "audit"   -> HMAC key of the audit hash chain
      ├─ HKDF "django"  -> Django's SECRET_KEY (sessions, CSRF, signed links)
      └─ fingerprint    -> stored in KeyringState; start-up refuses a different master key
    data key (32 random bytes, one active per workspace)
      ├─ HKDF "enc"     -> AES-256-GCM for encrypted fields
      └─ HKDF "bidx"    -> HMAC-SHA256 for blind indexes
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import Q

VERSION = 1
HEADER_LEN = 1 + 4 + 12  # version, key id, nonce
PREFIX_LEN = 1 + 4  # version and key id
MIN_BLOB_LEN = HEADER_LEN + 16  # header and the GCM tag of an empty plaintext
NONCE_LEN = 12
ACTIVE_KEY_TTL_S = 2.0
NONCES_PER_READ = 256  # nonces taken from the OS in one getrandom() call


WRONG_KEY = ("the master key does not match the one this database was encrypted with "
             "(wrong STORESYNC_MASTER_KEY or key file); refusing to start")


class MasterKeyError(Exception):
    """The master key is missing, malformed, or not the one this database was written with."""


def _hkdf(key: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(key)


def _decode_master(text: str, source: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{source}: the master key is not valid base64") from None
    if len(raw) != 32:
        raise MasterKeyError(f"{source}: the master key must be 32 bytes (got {len(raw)})")
    return raw


def generate_master_key() -> str:
    """A new master key in the form STORESYNC_MASTER_KEY takes (urlsafe base64, 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def read_master_key() -> bytes | None:
    """The configured master key, or None when neither the variable nor the key file exists."""
    cfg = settings.CONFIG
    if cfg.master_key:
        return _decode_master(cfg.master_key, "STORESYNC_MASTER_KEY")
    path: Path = cfg.master_key_file
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise MasterKeyError(
                f"{path}: key file is readable by others (mode {mode:o}); chmod 600"
            )
        return _decode_master(path.read_text(), str(path))
    return None


def write_master_key_file(path: Path) -> bytes:
    """Create a new key file with mode 0600 (refuses to overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = generate_master_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return _decode_master(text, str(path))


# Random 96-bit GCM nonces, drawn from the OS in blocks: one getrandom() system call per
# NONCES_PER_READ values instead of one per encrypted field (the call cost as much as the
# encryption itself). Every nonce is still 12 bytes straight from the OS CSPRNG, used once:
# ``deque.popleft`` is atomic, so two threads never get the same one, and a forked child
# starts with an empty pool so that it cannot reuse nonces its parent holds (ADR 0024).
_nonce_pool: deque[bytes] = deque()
os.register_at_fork(after_in_child=_nonce_pool.clear)


def _refill_nonces() -> bytes:
    """Refill the pool; returns one fresh nonce for the caller."""
    block = os.urandom(NONCE_LEN * NONCES_PER_READ)
    _nonce_pool.extend(block[i:i + NONCE_LEN] for i in range(NONCE_LEN, len(block), NONCE_LEN))
    return block[:NONCE_LEN]


def new_nonce() -> bytes:
    """A fresh random 96-bit nonce (never handed out twice in this process)."""
    try:
        return _nonce_pool.popleft()
    except IndexError:
        return _refill_nonces()


def fingerprint(master: bytes) -> str:
    return hmac.new(master, b"storesync master key fingerprint v1", sha256).hexdigest()


@dataclass
class _Cipher:
    key_id: int
    aead: AESGCM
    index_key: bytes
    prefix: bytes = b""  # version and key id: the start of every header this key writes

    def __post_init__(self) -> None:
        self.prefix = bytes([VERSION]) + self.key_id.to_bytes(4, "big")


class Keyring:
    """Process-wide access to keys. Thread-safe; unwrapped keys are cached in memory only."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        self._kek = AESGCM(_hkdf(master, "storesync/kek/v1"))
        self.audit_key = _hkdf(master, "storesync/audit/v1")
        self.django_secret = base64.b64encode(_hkdf(master, "storesync/django/v1")).decode()
        self.fingerprint = fingerprint(master)
        self._ciphers: dict[int, _Cipher] = {}
        # Per key, its bound ``AESGCM.decrypt`` under the 5-byte header prefix (version and key
        # id) that every ciphertext written with it starts with: the read hot path finds it with
        # one dictionary lookup on a slice, which also checks the version byte.
        self.openers: dict[bytes, Callable[[bytes, bytes, bytes], bytes]] = {}
        self._active: dict[uuid.UUID | None, tuple[int, float]] = {}
        self._index_macs: dict[tuple[int, str], Any] = {}
        self._lock = threading.Lock()

    # -- wrapping ---------------------------------------------------------------------------
    @staticmethod
    def _wrap_ad(workspace_id: uuid.UUID | None, key_id: int) -> bytes:
        return f"storesync-dek:{workspace_id or 'system'}:{key_id}".encode()

    def wrap(self, material: bytes, *, workspace_id: uuid.UUID | None, key_id: int) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, material, self._wrap_ad(workspace_id, key_id))

    def unwrap(self, wrapped: bytes, *, workspace_id: uuid.UUID | None, key_id: int) -> bytes:
        try:
            return self._kek.decrypt(
                wrapped[:12], wrapped[12:], self._wrap_ad(workspace_id, key_id)
            )
        except InvalidTag:
            raise MasterKeyError(
                f"data key {key_id} does not unwrap under this master key"
            ) from None

    # -- data keys --------------------------------------------------------------------------
    def create_data_key(self, workspace_id: uuid.UUID | None) -> int:
        """Add a new active data key for a workspace (the caller retires the previous one)."""
        from storesync.security.models import DataKey

        with transaction.atomic():
            key = DataKey.objects.create(workspace_id=workspace_id, wrapped=b"")
            material = os.urandom(32)
            key.wrapped = self.wrap(material, workspace_id=workspace_id, key_id=key.id)
            key.save(update_fields=["wrapped"])
        self.forget_active(workspace_id)
        return key.id

    def cipher(self, key_id: int) -> _Cipher:
        cached = self._ciphers.get(key_id)
        if cached is not None:
            return cached
        from storesync.security.models import DataKey

        row = DataKey.objects.filter(id=key_id).values("workspace_id", "wrapped", "state").first()
        if row is None or row["state"] == DataKey.State.RETIRED:
            raise MasterKeyError(f"data key {key_id} does not exist or has been retired")
        material = self.unwrap(
            bytes(row["wrapped"]), workspace_id=row["workspace_id"], key_id=key_id
        )
        made = _Cipher(key_id, AESGCM(_hkdf(material, "enc")), _hkdf(material, "bidx"))
        with self._lock:
            self._ciphers[key_id] = made
            self.openers[made.prefix] = made.aead.decrypt
        return made

    def active_key_id(self, workspace_id: uuid.UUID | None) -> int:
        """The id of the workspace's active data key (cached for ``ACTIVE_KEY_TTL_S``)."""
        slot = workspace_id
        hit = self._active.get(slot)
        now = time.monotonic()
        if hit is not None and now - hit[1] < ACTIVE_KEY_TTL_S:
            return hit[0]
        from storesync.security.models import DataKey

        key_id = (
            DataKey.objects.filter(for_workspace(workspace_id), state=DataKey.State.ACTIVE)
            .values_list("id", flat=True)
            .first()
        )
        if key_id is None:
            key_id = self.create_data_key(workspace_id)
        with self._lock:
            self._active[slot] = (key_id, now)
        return key_id

    def live_key_ids(self, workspace_id: uuid.UUID | None) -> list[int]:
        """Active first, then retiring: the keys a blind-index lookup must try."""
        from storesync.core.compiled_sql import tenant_rows
        from storesync.security.models import DataKey

        # A compiled read (ADR 0027): every order with an email looks its buyer up.
        # ``workspace: None`` is the system keys, as ``for_workspace`` has it.
        keys = tenant_rows(DataKey, where={
            "workspace": workspace_id, "state__in": [DataKey.State.ACTIVE, DataKey.State.RETIRING],
        }, fields=("state",))
        return [key.id for key in sorted(keys, key=lambda k: k.state != DataKey.State.ACTIVE)]

    def forget_active(self, workspace_id: uuid.UUID | None) -> None:
        with self._lock:
            self._active.pop(workspace_id, None)

    def forget_key(self, key_id: int) -> None:
        with self._lock:
            forgotten = self._ciphers.pop(key_id, None)
            if forgotten is not None:
                self.openers.pop(forgotten.prefix, None)
            for slot in [k for k in self._index_macs if k[0] == key_id]:
                del self._index_macs[slot]

    # -- values -----------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, *, workspace_id: uuid.UUID | None, aad: bytes) -> bytes:
        cipher = self.cipher(self.active_key_id(workspace_id))
        nonce = new_nonce()
        header = cipher.prefix + nonce
        return header + cipher.aead.encrypt(nonce, plaintext, header + aad)

    def decrypt(self, blob: bytes, *, aad: bytes) -> bytes:
        if len(blob) < HEADER_LEN + 16 or blob[0] != VERSION:
            raise DecryptionError("not a storesync ciphertext")
        key_id = int.from_bytes(blob[1:5], "big")
        header = blob[:HEADER_LEN]
        try:
            return self.cipher(key_id).aead.decrypt(
                blob[5:HEADER_LEN], blob[HEADER_LEN:], header + aad
            )
        except InvalidTag:
            raise DecryptionError("ciphertext does not belong to this row or was altered") from None

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        return int.from_bytes(bytes(blob[1:5]), "big")

    def blind_index(self, normalised: str, *, key_id: int, domain: str) -> bytes:
        """Keyed HMAC of a normalised value, truncated to 16 bytes, per field domain."""
        base = self._index_macs.get((key_id, domain))
        if base is None:
            base = hmac.new(self.cipher(key_id).index_key, domain.encode() + b"\0", sha256)
            with self._lock:
                self._index_macs[(key_id, domain)] = base
        mac = base.copy()  # keyed state reused: cheaper than a new HMAC per value
        mac.update(normalised.encode())
        return mac.digest()[:16]


def for_workspace(workspace_id: uuid.UUID | None) -> Q:
    """Keys of one workspace, or the system keys (``workspace`` is null)."""
    return Q(workspace__isnull=True) if workspace_id is None else Q(workspace_id=workspace_id)


class DecryptionError(Exception):
    """A ciphertext failed authentication: moved between rows, altered, or under a lost key."""


_keyring: Keyring | None = None


def seal(plaintext: bytes, workspace_id: uuid.UUID | None, aad: bytes) -> bytes:
    """``get().encrypt(...)`` without the method and keyword overhead (hot path)."""
    ring = _keyring or get()
    hit = ring._active.get(workspace_id)
    if hit is None or time.monotonic() - hit[1] >= ACTIVE_KEY_TTL_S:
        key_id = ring.active_key_id(workspace_id)
    else:
        key_id = hit[0]
    cipher = ring._ciphers.get(key_id) or ring.cipher(key_id)
    try:
        nonce = _nonce_pool.popleft()
    except IndexError:
        nonce = _refill_nonces()
    header = cipher.prefix + nonce
    return header + cipher.aead.encrypt(nonce, plaintext, header + aad)


_keyring_lock = threading.Lock()


def get() -> Keyring:
    """The process keyring; raises ``MasterKeyError`` when no master key is configured."""
    global _keyring
    if _keyring is None:
        with _keyring_lock:
            if _keyring is None:
                master = read_master_key()
                if master is None:
                    raise MasterKeyError(
                        "no master key: set STORESYNC_MASTER_KEY or run `storesync migrate` once "
                        f"to create {settings.CONFIG.master_key_file}"
                    )
                _keyring = Keyring(master)
                settings.SECRET_KEY = _keyring.django_secret
    return _keyring


def reset() -> None:
    """Drop the cached keyring (tests, or after the key file changed)."""
    global _keyring
    with _keyring_lock:
        _keyring = None


def configure_secret_key() -> None:
    """At app start: derive Django's SECRET_KEY from the master key if one is configured.

    Never creates a key and never touches the database, so ``--help`` and imports stay cheap;
    ``startup_check`` does the full verification before anything serves or writes.
    """
    try:
        master = read_master_key()
    except MasterKeyError:
        return  # reported by startup_check with its full reason
    if master is not None:
        settings.SECRET_KEY = base64.b64encode(_hkdf(master, "storesync/django/v1")).decode()


def startup_check(*, create_if_missing: bool) -> Keyring:
    """Verify the master key against the database before serving or writing anything.

    - no key configured and a fresh database: create the key file (0600) when allowed;
    - no key configured but the database holds keys: refuse (data would be unreadable);
    - a key whose fingerprint differs from the stored one: refuse.
    """
    from storesync.security.models import DataKey, KeyringState

    master = read_master_key()
    state = KeyringState.objects.filter(id=1).first()
    has_keys = state is not None or DataKey.objects.exists()
    if master is None:
        if has_keys:
            raise MasterKeyError(
                "the database holds encrypted data but no master key is configured: set "
                f"STORESYNC_MASTER_KEY or restore {settings.CONFIG.master_key_file}"
            )
        if not create_if_missing:
            raise MasterKeyError(
                "no master key configured; run `storesync migrate` to create one "
                f"at {settings.CONFIG.master_key_file}"
            )
        master = write_master_key_file(settings.CONFIG.master_key_file)
    found = fingerprint(master)
    if state is None:
        # No fingerprint yet (first start, or the row was lost): prove the key on a data key.
        sample = DataKey.objects.exclude(state=DataKey.State.RETIRED).first()
        if sample is not None:
            try:
                Keyring(master).unwrap(bytes(sample.wrapped), workspace_id=sample.workspace_id,
                                       key_id=sample.id)
            except MasterKeyError:
                raise MasterKeyError(WRONG_KEY) from None
        KeyringState.objects.create(id=1, master_fingerprint=found)
    elif not hmac.compare_digest(state.master_fingerprint, found):
        raise MasterKeyError(WRONG_KEY)
    reset()
    return get()
