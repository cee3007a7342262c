from __future__ import annotations

import dataclasses
import os
import stat

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from storesync.security import keyring
from storesync.security.keyring import MasterKeyError, startup_check
from storesync.security.models import KeyringState


@pytest.fixture
def config(tmp_path):
    """Swap the configuration for one test; restored afterwards."""
    original = settings.CONFIG

    def use(**changes):
        settings.CONFIG = dataclasses.replace(original, **changes)
        keyring.reset()

    yield use
    settings.CONFIG = original
    keyring.reset()


def test_first_start_creates_a_private_key_file(db, config, tmp_path):
    KeyringState.objects.all().delete()
    key_file = tmp_path / "keys" / "master.key"
    config(master_key=None, master_key_file=key_file)
    startup_check(create_if_missing=True)
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert KeyringState.objects.get().master_fingerprint == keyring.get().fingerprint


def test_wrong_master_key_refuses_to_start(workspace, config):
    config(master_key=keyring.generate_master_key())
    with pytest.raises(MasterKeyError, match="does not match"):
        startup_check(create_if_missing=False)


def test_missing_master_key_with_encrypted_data_refuses(workspace, config, tmp_path):
    config(master_key=None, master_key_file=tmp_path / "absent.key")
    with pytest.raises(MasterKeyError, match="no master key is configured"):
        startup_check(create_if_missing=True)
    assert not (tmp_path / "absent.key").exists()  # never silently a new key


def test_malformed_and_world_readable_keys_are_refused(db, config, tmp_path):
    config(master_key="not base64 at all!!")
    with pytest.raises(MasterKeyError, match=r"base64|32 bytes"):
        keyring.read_master_key()
    loose = tmp_path / "loose.key"
    loose.write_text(keyring.generate_master_key())
    loose.chmod(0o644)
    config(master_key=None, master_key_file=loose)
    with pytest.raises(MasterKeyError, match="readable by others"):
        keyring.read_master_key()


def test_serve_exits_with_a_clear_error_on_a_wrong_key(workspace, config):
    config(master_key=keyring.generate_master_key())
    with pytest.raises(CommandError, match="master key"):
        call_command("serve", "--port", "0")


def test_data_keys_are_stored_only_wrapped(workspace):
    from storesync.security.models import DataKey

    key = DataKey.objects.filter(workspace_id=workspace.workspace.id).get()
    wrapped = bytes(key.wrapped)
    assert len(wrapped) == 12 + 32 + 16  # nonce, key, tag: no clear key material
    ring = keyring.get()
    with pytest.raises(MasterKeyError):  # bound to its workspace and id
        ring.unwrap(wrapped, workspace_id=None, key_id=key.id)
    assert len(ring.unwrap(wrapped, workspace_id=workspace.workspace.id, key_id=key.id)) == 32


def test_lost_fingerprint_row_is_rebuilt_only_for_the_right_key(workspace, config):
    KeyringState.objects.all().delete()
    config(master_key=keyring.generate_master_key())
    with pytest.raises(MasterKeyError):
        startup_check(create_if_missing=False)
    assert not KeyringState.objects.exists()
    config()  # the original key again
    startup_check(create_if_missing=False)
    assert KeyringState.objects.get().master_fingerprint == keyring.get().fingerprint


def test_nonces_are_fresh_for_every_value_and_refilled_in_blocks():
    from storesync.security import keyring

    count = keyring.NONCES_PER_READ * 3 + 5  # crosses several refills
    nonces = [keyring.new_nonce() for _ in range(count)]
    assert all(len(n) == keyring.NONCE_LEN for n in nonces)
    assert len(set(nonces)) == count


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_reuses_its_parents_pooled_nonces():
    from storesync.security import keyring

    keyring.new_nonce()  # the parent now holds a pool of unused nonces
    if not keyring._nonce_pool:  # that draw took the pool's last one: the next refills it
        keyring.new_nonce()
    pooled = set(keyring._nonce_pool)
    assert pooled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the pool it inherited and the nonces it draws
        try:
            os.close(read)
            drawn = [keyring.new_nonce() for _ in range(50)]
            os.write(write, bytes([len(keyring._nonce_pool) == keyring.NONCES_PER_READ - 50])
                     + b"".join(drawn))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    child = {report[1 + i:13 + i] for i in range(0, len(report) - 1, 12)}
    assert report[0] == 1  # the child refilled from the OS instead of using the copy
    assert len(child) == 50 and not child & pooled
