"""Password guessing is throttled (django-allauth rate limits on failed logins)."""

from __future__ import annotations

from django.test import Client

TOO_MANY = "Too many failed login attempts"


def _login(client: Client, email: str, password: str) -> str:
    return client.post("/accounts/login/", {"login": email, "password": password}).content.decode()


def test_failed_logins_are_throttled_per_account(workspace):
    client = Client(REMOTE_ADDR="198.51.100.7")
    pages = [_login(client, workspace.owner.email, f"wrong-{i}") for i in range(6)]
    assert TOO_MANY not in pages[0]
    assert TOO_MANY in pages[-1]
    # Even the right password is refused while the account is throttled, from any address.
    other = Client(REMOTE_ADDR="198.51.100.8")
    assert TOO_MANY in _login(other, workspace.owner.email, workspace.password)
    assert "_auth_user_id" not in other.session
