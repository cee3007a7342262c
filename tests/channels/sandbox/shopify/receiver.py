"""A webhook receiver on 127.0.0.1 for tests: records every delivery, answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """``statuses``: answers for the next deliveries, in order (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(Received(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/shopify/1"

    def wait_for(self, check: Callable[[list[Received]], bool], timeout_s: float = 15.0) -> None:
        """Wait (bounded) until ``check`` holds for what has arrived."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if check(list(self.received)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"deliveries did not arrive in {timeout_s} s: {self.topics()}")

    def topics(self) -> list[str]:
        with self.lock:
            return [r.headers.get("X-Shopify-Topic", "") for r in self.received]

    def of(self, topic: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.headers.get("X-Shopify-Topic") == topic]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
