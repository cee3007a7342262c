from __future__ import annotations

import io
import json
import logging

import pytest

from storesync.core import logs


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("DEBUG", stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def test_personal_data_and_secrets_never_reach_the_log(captured):
    log = logs.get_logger("test")
    log.info(
        "customer_created",
        email="asha.rao@example.com",
        phone="+919876543210",
        name="Asha Rao",
        address="12 MG Road",
        password="hunter2-secret",
        token="sst_abcdef_secretpart",
        workspace="acme",
    )
    log.warning(
        "lookup failed for asha.rao@example.com from +91 98765 43210 "
        "with Bearer sst_abcdef_secretpart"
    )
    logging.getLogger("django.request").error(
        "Bad request from zen@example.org", extra={"card": "4111111111111111"}
    )
    try:
        raise ValueError("could not parse asha.rao@example.com")
    except ValueError:
        log.exception("boom")
    out = captured.getvalue()
    for secret in (
        "asha.rao@example.com",
        "9876543210",
        "98765 43210",
        "Asha Rao",
        "12 MG Road",
        "hunter2",
        "secretpart",
        "zen@example.org",
        "4111111111111111",
    ):
        assert secret not in out, secret
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["event"] == "customer_created" and lines[0]["workspace"] == "acme"
    assert lines[0]["email"] == "[redacted]"
    assert "[email]" in lines[1]["event"] and "[phone]" in lines[1]["event"]


def test_dates_and_ids_survive_redaction():
    assert (
        logs.scrub("started at 2026-11-25 02:48:27.963459")
        == "started at 2026-11-25 02:48:27.963459"
    )
    assert logs.scrub("call 098765 43210 or +91-98765-43210") == "call [phone] or [phone]"
