"""Shared schema pieces of the API."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class Strict(Schema):
    """Input schemas refuse unknown fields: a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


Amount = str  # decimal string in the workspace currency, e.g. "499.00"
