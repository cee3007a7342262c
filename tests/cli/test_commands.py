from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.security.keyring import generate_master_key
from storesync.security.tokens import token_authenticate


def _run(*args, capsys):
    call_command(*args)
    return capsys.readouterr().out.strip().splitlines()


def test_workspace_create_prints_the_password_last(db, capsys):
    lines = _run("workspace", "create", "shop", "--name", "Shop", "--owner", "o@shop.example",
                 capsys=capsys)
    ws = Workspace.objects.get(slug="shop")
    assert str(ws.id) in "\n".join(lines)
    from storesync.core.models import User
    assert User.objects.get(email="o@shop.example").check_password(lines[-1])


def test_workspace_create_bad_input_is_a_clear_error(db):
    with pytest.raises(CommandError, match="slug"):
        call_command("workspace", "create", "Bad Slug", "--name", "x", "--owner", "o@x.example")
    with pytest.raises(CommandError, match="owner"):
        call_command("workspace", "create", "ok", "--name", "x", "--owner", "nope")
    assert not Workspace.objects.exists()


def test_token_create_prints_a_working_token_last(workspace, capsys):
    lines = _run("token", "create", "--workspace", "acme", "--role", "manager", capsys=capsys)
    token = token_authenticate(lines[-1])
    assert token is not None and token.role == "manager"
    from storesync.core.tenancy import system_scope
    from storesync.security.models import ApiToken
    with system_scope():
        assert lines[-1] not in str(list(ApiToken.objects.values_list()))  # only a hash is kept


def test_token_create_rejects_unknown_role_and_workspace(workspace):
    with pytest.raises(CommandError, match="unknown role"):
        call_command("token", "create", "--workspace", "acme", "--role", "god")
    with pytest.raises(CommandError, match="no workspace"):
        call_command("token", "create", "--workspace", "nope", "--role", "owner")


def test_token_revoke_and_list(workspace, capsys):
    lines = _run("token", "create", "--workspace", "acme", "--role", "viewer", capsys=capsys)
    token = token_authenticate(lines[-1])
    _run("token", "revoke", "--workspace", "acme", str(token.id), capsys=capsys)
    assert token_authenticate(lines[-1]) is None
    listing = _run("token", "list", "--workspace", "acme", capsys=capsys)
    assert "revoked" in listing[0]


def test_member_invite_prints_the_link(workspace, capsys):
    lines = _run("member", "invite", "--workspace", "acme", "--email", "s@example.com",
                 "--role", "staff", capsys=capsys)
    assert lines[-1].startswith("http") and "/invitations/" in lines[-1]


def test_demo_creates_a_believable_workspace(db, capsys):
    lines = _run("demo", "--customers", "25", "--products", "4", "--variants", "8", "--orders",
                 "10", "--seed", "1", "--no-progress", capsys=capsys)
    ws = Workspace.objects.get(slug="demo")
    with workspace_scope(ws.id):
        assert Customer.objects.count() == 25
    from storesync.core.models import User
    assert User.objects.get(email="owner@demo.example").check_password(lines[-1])
    again = _run("demo", "--if-empty", capsys=capsys)
    assert "already exists" in again[0]


ENV_KEEP = ("PATH", "HOME", "LANG", "SYSTEMROOT")


def _cli(tmp_path: Path, *args: str, key: str, db_url: str | None = None):
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.update(STORESYNC_DATA_DIR=str(tmp_path), STORESYNC_MASTER_KEY=key,
               STORESYNC_DATABASE_URL=db_url or f"sqlite:///{tmp_path / 'cli.db'}")
    return subprocess.run([sys.executable, "-m", "storesync.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_console_script_end_to_end(tmp_path):
    """The real console entry point on a fresh SQLite file: fixed points and exit codes."""
    key = generate_master_key()
    assert _cli(tmp_path, "migrate", "-v", "0", key=key).returncode == 0
    created = _cli(tmp_path, "workspace", "create", "shop", "--name", "Shop", "--owner",
                   "o@shop.example", key=key)
    assert created.returncode == 0, created.stderr
    token = _cli(tmp_path, "token", "create", "--workspace", "shop", "--role", "owner", key=key)
    assert token.stdout.strip().splitlines()[-1].startswith("sst_")
    verify = _cli(tmp_path, "audit", "verify", key=key)
    assert verify.returncode == 0 and "intact" in verify.stdout
    wrong = _cli(tmp_path, "audit", "verify", key=generate_master_key())
    assert wrong.returncode != 0 and "master key" in wrong.stderr
    bad = _cli(tmp_path, "workspace", "create", "x", "--name", "x", "--owner", "bad", key=key)
    assert bad.returncode != 0 and "owner" in bad.stderr
    conf = _cli(tmp_path, "workspace", "list", key=key, db_url="mysql://nope")
    assert conf.returncode == 2 and "STORESYNC_DATABASE_URL" in conf.stderr
    helptext = _cli(tmp_path, "--help", key=key)
    for command in ("serve", "worker", "migrate", "demo", "workspace", "token", "audit", "keys"):
        assert command in helptext.stdout
