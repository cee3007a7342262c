"""django-allauth adapters: no open sign-up; TOTP secrets encrypted under the keyring."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from storesync.security import mfa_secrets


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts come from `storesync workspace create` or from an invitation.
        return False


class MFAAdapter(DefaultMFAAdapter):
    """allauth stores TOTP secrets in the database: seal them under the system data key."""

    def encrypt(self, text: str) -> str:
        return mfa_secrets.seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secrets.unseal(encrypted_text)
