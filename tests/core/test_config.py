"""Where storesync keeps its data when nothing is configured."""

from __future__ import annotations

from pathlib import Path

from storesync import config


def test_the_user_data_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("PYTEST_VERSION", raising=False)
    monkeypatch.delenv("STORESYNC_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert config.load().data_dir == tmp_path / "storesync"


def test_a_test_run_never_uses_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("STORESYNC_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert config.load().data_dir == Path(tmp_path) / "var" / "test"
