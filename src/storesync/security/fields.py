"""Encrypted and blind-indexed model fields.

An ``EncryptedField`` stores AES-256-GCM ciphertext under the row's workspace data key, with the
row's identity (model, field, primary key, workspace) as associated data: a ciphertext copied
into another row, column or workspace fails authentication instead of decrypting.

Reading a personal field (``personal=True``) is only possible inside
``storesync.security.access.personal_data_access``, which records what was read and writes the
audit events; outside it the read raises ``PersonalDataAccessError``. Saving never needs to
decrypt: unchanged values are written back as the ciphertext they were loaded as.

A ``BlindIndexField`` holds a keyed HMAC of the normalised value of another field, for exact
lookups (``Customer.email_bidx``) without storing or comparing plaintext.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from django.db import models

from storesync.security import access, keyring


class Sealed(tuple[bytes, str | None]):
    """A ciphertext written in this process, with the plaintext it was made from (which the
    row's blind indexes are computed from, and later reads return without decrypting).

    A two-item tuple (``blob``, ``plain``) rather than a class with ``__init__``: one is made
    for every value encrypted, and a tuple is built in C (ADR 0024). Values loaded from the
    database are never wrapped: they stay ciphertext and are decrypted on each read."""

    __slots__ = ()

    def __new__(cls, blob: bytes, plain: str | None = None) -> Sealed:
        return tuple.__new__(cls, (blob, plain))

    @property
    def blob(self) -> bytes:
        return self[0]

    @property
    def plain(self) -> str | None:
        return self[1]

    def __repr__(self) -> str:  # never show the plaintext, even in tracebacks
        return f"<Sealed {len(self[0])} bytes>"


# ``_new_tuple(Sealed, (blob, plain))`` is ``Sealed(blob, plain)`` without the Python-level
# ``__new__`` call, for the hot paths below.
_new_tuple = tuple.__new__


_MISSING = object()
_PREFIX, _HEADER, _MIN_BLOB = keyring.PREFIX_LEN, keyring.HEADER_LEN, keyring.MIN_BLOB_LEN


def ciphertext(value: Sealed | bytes | memoryview) -> bytes:
    """The stored bytes of an encrypted column, however the driver or ORM handed them over."""
    return value.blob if isinstance(value, Sealed) else bytes(value)


def _row_identity(instance: models.Model) -> bytes:
    """``:<pk>:<workspace>`` of a row, cached per instance (a hot path) and recomputed if the
    row's identity changes (``pk = None`` to copy a row, say)."""
    values = instance.__dict__
    cached = values.get("_storesync_row")
    # Identity, not equality: comparing UUIDs runs Python code, and a new object for the same
    # key only costs one recomputation.
    if (cached is not None and cached[0] is values.get(cached[3])
            and cached[1] is values.get("workspace_id")):
        return cached[2]
    pk_attname = instance._meta.pk.attname
    pk, workspace = values.get(pk_attname), values.get("workspace_id")
    identity = f":{pk}:{workspace or 'system'}".encode()
    values["_storesync_row"] = (pk, workspace, identity, pk_attname)
    return identity


def row_aad(label_lower: str, attname: str, pk: object, workspace_id: object) -> bytes:
    """Associated data binding a value to its model, field, row and workspace.

    The descriptor builds the same bytes from cached halves (``aad_prefix`` + row identity).
    """
    return f"{label_lower}.{attname}:{pk}:{workspace_id or 'system'}".encode()


def workspace_of(instance: models.Model) -> uuid.UUID | None:
    return getattr(instance, "workspace_id", None)


class _EncryptedAttribute:
    """Decrypts on every read (a hot path: kept to a few dictionary lookups and one AEAD call).

    A value loaded from the database stays ciphertext in the instance: the plaintext exists
    only in what the caller holds, so a long-lived object, a cache or a memory dump of model
    instances holds no personal data in the clear, and every read passes the access check.
    It is also the cheaper choice: a read costs one AES-GCM call (about 1 µs) either way, and
    keeping the plaintext would allocate a container per value that the cyclic garbage
    collector walks for as long as the instance lives (ADR 0028). A value written in this
    process is kept as a ``Sealed`` pair, since its blind index is computed from it.
    """

    def __init__(self, field: EncryptedField) -> None:
        self.field = field
        self.attname = field.attname
        self.name = field.name
        self.personal = field.personal
        self.label = f"{field.model._meta.model_name}.{field.name}"  # as the audit names it
        self.aad_prefix = f"{field.model._meta.label_lower}.{field.attname}".encode()

    def __get__(self, instance: models.Model | None, owner: type) -> Any:
        if instance is None:
            return self
        values = instance.__dict__
        value = values.get(self.attname, _MISSING)
        kind = type(value)
        if kind is Sealed:
            if self.personal:
                access.record_read(instance, self.name, self.label)
            return value[1]
        if kind is not bytes and kind is not memoryview:
            if value is not _MISSING:
                return value  # None, or plaintext set in this process and not yet saved
            instance.refresh_from_db(fields=[self.attname])
            return self.__get__(instance, owner)
        # Ciphertext as the driver returned it: decrypted on every read and never kept on the
        # instance (see the class docstring).
        if self.personal:
            access.record_read(instance, self.name, self.label)
        if kind is bytes:
            blob = value
        else:
            blob = values[self.attname] = bytes(value)
        # The row identity is cached on the instance (see _row_identity), checked inline here
        # because this runs once for every value a page shows.
        row = values.get("_storesync_row")
        if (row is not None and row[0] is values.get(row[3])
                and row[1] is values.get("workspace_id")):
            identity = row[2]
        else:
            identity = _row_identity(instance)
        # The process keyring's opener for this key, found by the ciphertext's version-and-key
        # prefix; the first use of a key (or a malformed value) goes through Keyring.decrypt,
        # which unwraps the key or raises DecryptionError.
        ring = keyring._keyring
        opener = ring.openers.get(blob[:_PREFIX]) if ring is not None else None
        if opener is not None and len(blob) >= _MIN_BLOB:
            try:
                plain = opener(blob[_PREFIX:_HEADER], blob[_HEADER:],
                               blob[:_HEADER] + self.aad_prefix + identity).decode()
            except InvalidTag:
                raise keyring.DecryptionError(
                    "ciphertext does not belong to this row or was altered") from None
        else:
            plain = keyring.get().decrypt(blob, aad=self.aad_prefix + identity).decode()
        return plain

    def __set__(self, instance: models.Model, value: Any) -> None:
        # Text from code, or ciphertext (bytes / memoryview) from the database driver, which
        # stays sealed until read: no converter runs for it when rows are loaded.
        if value is not None and type(value) not in _SETTABLE:
            raise TypeError(f"{self.field.name} takes text, not {type(value).__name__}")
        instance.__dict__[self.attname] = value


_SETTABLE = frozenset({str, bytes, memoryview, Sealed})


class _BytesField(models.Field):
    """A ``bytea`` / ``BLOB`` column, like ``models.BinaryField`` minus ``get_placeholder``.

    Django's PostgreSQL bulk insert sends all rows as one array per column
    (``INSERT ... SELECT * FROM UNNEST(...)``) unless a field defines ``get_placeholder``,
    which ``BinaryField`` does (for MySQL and Oracle, which storesync does not support). With
    it, a 1,000-row batch becomes a ``VALUES`` list with one placeholder per value that
    psycopg splits and merges client-side on every batch: that alone made bulk inserts of
    encrypted rows more than twice as slow as plain ones on PostgreSQL (ADR 0014).
    """

    empty_values = [None, b""]

    def get_internal_type(self) -> str:
        return "BinaryField"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        # psycopg dumps bytes as bytea and sqlite3 as BLOB; no driver wrapper needed.
        return bytes(value) if isinstance(value, memoryview) else value


class EncryptedField(_BytesField):
    """Text encrypted at rest. ``category`` names the data category (for the data map)."""

    # For django-stubs: the attribute holds text, whatever the column stores.
    _pyi_private_set_type: str | None
    _pyi_private_get_type: str | None

    def __init__(
        self, *args: Any, category: str = "", personal: bool = True, **kwargs: Any
    ) -> None:
        self.category = category
        self.personal = personal
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["category"] = self.category
        kwargs["personal"] = self.personal
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str,
                            private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        self._aad_prefix = f"{cls._meta.label_lower}.{self.attname}".encode()
        setattr(cls, self.attname, _EncryptedAttribute(self))

    def aad_prefix(self, instance: models.Model) -> bytes:
        """``<app>.<model>.<field>``: the first half of the associated data."""
        return self._aad_prefix

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        values = model_instance.__dict__
        value = values.get(self.attname)
        if type(value) is not str:
            return value  # None, or unchanged ciphertext written back as it was
        blob = keyring.seal(
            value.encode(),
            values.get("workspace_id"),
            self._aad_prefix + _row_identity(model_instance),
        )
        values[self.attname] = _new_tuple(Sealed, (blob, value))
        return blob

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if type(value) is bytes or value is None:
            return value  # the common case: what pre_save just returned
        if isinstance(value, Sealed):
            value = value.blob
        elif isinstance(value, memoryview):
            value = bytes(value)
        elif isinstance(value, str):
            raise TypeError(
                f"{self.name} is encrypted: it cannot be filtered on or written without its row"
            )
        return value

    def to_python(self, value: Any) -> Any:
        return value


Normaliser = Callable[[str], str]


class BlindIndexField(_BytesField):
    """Keyed HMAC (16 bytes) of ``normaliser(source)``, recomputed whenever the source changes."""

    def __init__(
        self, *args: Any, source: str = "", normaliser: Normaliser | None = None, **kwargs: Any
    ) -> None:
        self.source = source
        self.normaliser: Normaliser = normaliser or (lambda v: v.strip())
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("null", "editable", "db_index"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def domain(self, model: type[models.Model]) -> str:
        domain: str | None = self.__dict__.get("_domain")
        if domain is None:
            domain = self.__dict__["_domain"] = f"{model._meta.label_lower}.{self.source}"
        return domain

    def compute(self, model: type[models.Model], value: str, *, key_id: int) -> bytes | None:
        normalised = self.normaliser(value)
        if not normalised:
            return None
        return keyring.get().blind_index(normalised, key_id=key_id, domain=self.domain(model))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        source = model_instance.__dict__.get(self.source)
        if isinstance(source, bytes | memoryview):
            return getattr(model_instance, self.attname)  # never decrypted, so unchanged
        if isinstance(source, Sealed):
            source = source.plain  # just encrypted by its own field's pre_save, or read
        if source is None:
            value = None
        else:
            key_id = keyring.get().active_key_id(workspace_of(model_instance))
            value = self.compute(type(model_instance), source, key_id=key_id)
        setattr(model_instance, self.attname, value)
        return value

    def candidates(
        self, model: type[models.Model], workspace_id: uuid.UUID, value: str
    ) -> list[bytes]:
        """Digests to look ``value`` up by: one per live key (two while a rotation runs)."""
        ring = keyring.get()
        out = []
        for key_id in ring.live_key_ids(workspace_id):
            digest = self.compute(model, value, key_id=key_id)
            if digest is not None:
                out.append(digest)
        return out


def encrypted_fields(model: type[models.Model]) -> list[EncryptedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
