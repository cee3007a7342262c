"""Fixtures of other test packages that API tests use too."""

from __future__ import annotations

from tests.catalog.conftest import media_dir

__all__ = ["media_dir"]
