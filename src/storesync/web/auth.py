"""django-allauth adapters: no open sign-up; TOTP secrets encrypted under the keyring."""

from __future__ import annotations

import base64

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from storesync.security import keyring

_AAD = b"storesync.mfa.secret"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts come from `storesync workspace create` or from an invitation.
        return False


class MFAAdapter(DefaultMFAAdapter):
    """allauth stores TOTP secrets in the database; encrypt them under the system data key."""

    def encrypt(self, text: str) -> str:
        blob = keyring.get().encrypt(text.encode(), workspace_id=None, aad=_AAD)
        return "enc1:" + base64.b64encode(blob).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith("enc1:"):
            return encrypted_text
        blob = base64.b64decode(encrypted_text[5:])
        return keyring.get().decrypt(blob, aad=_AAD).decode()
