"""A WooCommerce simulator on a free port, and a webhook receiver that records deliveries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from storesync.channels.sandbox.woocommerce.server import Running, start

KEY, SECRET = "ck_test_0123456789", "cs_test_abcdef0123"


@pytest.fixture
def woo() -> Iterator[Running]:
    running = start(port=0, consumer_key=KEY, consumer_secret=SECRET, seed=7)
    yield running
    running.stop()


@pytest.fixture
def control(woo: Running) -> Iterator[httpx.Client]:
    """Plain HTTP to the simulator: its ``/_sandbox`` switches and raw REST calls."""
    with httpx.Client(base_url=woo.url, timeout=10) as client:
        yield client


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers every delivery with ``status`` and keeps what it received."""

    url: str
    status: int = 200
    received: list[Delivery] = field(default_factory=list)

    def events(self) -> list[Delivery]:
        return [d for d in self.received if "X-WC-Webhook-Topic" in d.headers]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            box["r"].received.append(Delivery(dict(self.headers.items()), body))
            self.send_response(box["r"].status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/webhooks/woocommerce/1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["r"]
    server.shutdown()
    server.server_close()


def flush(control: httpx.Client) -> None:
    """Wait (bounded) until every queued webhook delivery was attempted."""
    answer = control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10}).json()
    assert answer["drained"], "webhook deliveries did not finish within 10 s"
