"""Encryption of MFA (TOTP) secrets, which django-allauth keeps in its ``Authenticator`` rows.

They are sealed under the installation's system data key (they belong to a person, not a
workspace) and rotate with it (``storesync.security.rotation``).
"""

from __future__ import annotations

import base64

from storesync.security import keyring

PREFIX = "enc1:"
_AAD = b"storesync.mfa.secret"


def seal(text: str) -> str:
    blob = keyring.get().encrypt(text.encode(), workspace_id=None, aad=_AAD)
    return PREFIX + base64.b64encode(blob).decode()


def unseal(value: str) -> str:
    if not value.startswith(PREFIX):
        return value  # written before encryption was configured
    return keyring.get().decrypt(base64.b64decode(value[len(PREFIX):]), aad=_AAD).decode()


def key_id(value: str) -> int | None:
    if not value.startswith(PREFIX):
        return None
    return keyring.Keyring.key_id_of(base64.b64decode(value[len(PREFIX):]))
