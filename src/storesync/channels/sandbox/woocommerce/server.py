"""A WooCommerce store on 127.0.0.1: ``storesync sandbox woocommerce --port N``.

REST API v3 under ``/wp-json/wc/v3/`` (see ``rest.py``), the site index at ``/wp-json/``
(name, URL), webhooks delivered with real signatures (``webhooks.py``).

Authentication. WooCommerce accepts the consumer key and secret as HTTP Basic auth or as the
``consumer_key``/``consumer_secret`` query parameters over HTTPS, and requires OAuth 1.0a
one-legged signatures over plain HTTP. The sandbox listens on the loopback interface only
and accepts Basic auth and the query parameters over plain HTTP (ADR 0013): keys never leave
the machine, and the connector refuses plain HTTP for any other host. A wrong key answers
401 ``woocommerce_rest_authentication_error`` "Consumer key is invalid." (or "Consumer
secret is invalid."); no credentials answers 401 ``woocommerce_rest_cannot_view``.

Rate limit. Core WooCommerce has none; many hosts add one. ``--rate-limit N`` allows N REST
requests per second (a token bucket of N) and answers the rest 429 with ``Retry-After``.

Test switches (no auth; loopback only), all JSON:

- ``GET /_sandbox/state``: counts, webhooks with their ``failure_count``, the delivery log
  and every REST call received (method and path).
- ``POST /_sandbox/seed`` ``{"products": N, "variable_every": 3, "seed": S}``: a catalog
  (simple products, and every third one variable with sizes S/M/L); same seed, same catalog.
- ``POST /_sandbox/orders`` ``{"line_items": [{"product_id"|"sku", "variation_id",
  "quantity"}], "status": "processing", "billing": {...}, "shipping_lines": [...]}``: a sale
  on WooCommerce; reduces stock and fires ``order.created``.
- ``POST /_sandbox/faults`` (replaces; ``DELETE`` clears): ``error_count`` + ``error_status``
  (the next N REST calls fail: 500 with WordPress's critical-error JSON, other codes with an
  HTML page as a proxy sends), ``malformed_count`` (the next N answers are 200 with a cut
  JSON body), ``latency_ms`` (every REST call), ``rate_limit`` (per second, 0 = off),
  ``webhook_drop``/``webhook_duplicate`` (the next N deliveries are lost / sent twice with the
  same delivery id), ``webhook_reorder`` (hold deliveries until the next flush, then send
  them newest first).
- ``POST /_sandbox/clock`` ``{"advance_s": S}``: move the store's clock forward.
- ``POST /_sandbox/webhooks/flush`` ``{"timeout_s": 10}``: release held deliveries and wait
  until every queued one was attempted.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from storesync.channels.sandbox.woocommerce import orders as order_ops
from storesync.channels.sandbox.woocommerce.rest import Request, Response, Rest
from storesync.channels.sandbox.woocommerce.state import Store, StoreError
from storesync.channels.sandbox.woocommerce.webhooks import Dispatcher, Faults

LOG_LIMIT = 10_000
LOOPBACK = ("127.0.0.1", "localhost", "::1")
OPTIONS = ("consumer_key", "consumer_secret", "currency", "seed", "products", "rate_limit",
           "latency_ms", "store_name")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's own options for ``storesync sandbox woocommerce``."""
    parser.add_argument("--consumer-key", dest="consumer_key", default="ck_sandbox",
                        help="REST API consumer key the store accepts")
    parser.add_argument("--consumer-secret", dest="consumer_secret", default="cs_sandbox",
                        help="REST API consumer secret the store accepts")
    parser.add_argument("--currency", default="INR", help="store currency (ISO 4217)")
    parser.add_argument("--store-name", dest="store_name", default="Sandbox Store")
    parser.add_argument("--seed", type=int, default=0, help="random seed for generated data")
    parser.add_argument("--products", type=int, default=0,
                        help="generate this many products at start")
    parser.add_argument("--rate-limit", dest="rate_limit", type=float, default=0,
                        help="REST requests allowed per second (429 beyond; 0 = none)")
    parser.add_argument("--latency-ms", dest="latency_ms", type=int, default=0,
                        help="added to every REST answer")


@dataclass
class RestFaults:
    error_count: int = 0
    error_status: int = 503
    malformed_count: int = 0
    latency_ms: int = 0
    rate_limit: float = 0.0
    tokens: float = 0.0
    refilled_at: float = field(default_factory=time.monotonic)


class Sandbox:
    """The store, its REST routes, its webhook dispatcher and its faults."""

    def __init__(self, *, store: Store, base_url: str = "") -> None:
        self.store = store
        self.base_url = base_url
        self.dispatcher = Dispatcher(store, base_url)
        store.emit = self.dispatcher.emit
        self.rest = Rest(store, self.dispatcher)
        self.faults = RestFaults()
        self.lock = threading.Lock()
        # (method, path) of the latest REST requests; bounded for a long-running demo
        self.calls: deque[tuple[str, str]] = deque(maxlen=LOG_LIMIT)

    def set_base_url(self, base_url: str) -> None:
        self.base_url = self.dispatcher.source_url = base_url

    # --- REST -------------------------------------------------------------------------

    def handle_rest(self, request: Request, authorization: str) -> Response:
        with self.lock:
            self.calls.append((request.method, request.path))
        delay = self.faults.latency_ms / 1000
        if delay:
            time.sleep(delay)
        limited = self._rate_limited()
        if limited:
            return Response(429, {"code": "rest_too_many_requests",
                                  "message": "Too many requests. Retry later.",
                                  "data": {"status": 429}},
                            {"Retry-After": str(limited)})
        injected = self._injected_error()
        if injected:
            return injected
        if request.path in ("/wp-json", "/wp-json/"):
            return Response(200, {"name": self.store.name, "description": "",
                                  "url": self.base_url, "home": self.base_url,
                                  "namespaces": ["wp/v2", "wc/v3"]})
        refused = self._authenticate(request, authorization)
        if refused:
            return refused
        try:
            response = self.rest.route(request)
        except StoreError as error:
            response = _error(error.status, error.code, error.message)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Input the sandbox did not foresee: answer as WordPress does on a PHP error.
            response = _error(500, "internal_server_error",
                              "<p>There has been a critical error on this website.</p>")
        with self.lock:
            if self.faults.malformed_count > 0 and response.status == 200:
                self.faults.malformed_count -= 1
                response.headers["X-Sandbox-Malformed"] = "1"
        return response

    def _rate_limited(self) -> int:
        """0 when allowed, else the whole seconds until a token is back."""
        with self.lock:
            rate = self.faults.rate_limit
            if rate <= 0:
                return 0
            now = time.monotonic()
            # A bucket of max(1, N): below one request a second, one at a time.
            self.faults.tokens = min(max(1.0, rate), self.faults.tokens
                                     + (now - self.faults.refilled_at) * rate)
            self.faults.refilled_at = now
            if self.faults.tokens >= 1:
                self.faults.tokens -= 1
                return 0
            return max(1, math.ceil((1 - self.faults.tokens) / rate))

    def _injected_error(self) -> Response | None:
        with self.lock:
            if self.faults.error_count <= 0:
                return None
            self.faults.error_count -= 1
            status = self.faults.error_status
        if status == 500:
            return Response(500, {"code": "internal_server_error", "message":
                                  "<p>There has been a critical error on this website.</p>",
                                  "data": {"status": 500}, "additional_errors": []})
        return Response(status, f"<html><body><h1>{status}</h1></body></html>",
                        {"Content-Type": "text/html"})

    def _authenticate(self, request: Request, authorization: str) -> Response | None:
        key = request.query.get("consumer_key")
        secret = request.query.get("consumer_secret")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
                key, _, secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                key = secret = None
        if not key:
            return _error(401, "woocommerce_rest_cannot_view",
                          "Sorry, you cannot list resources.")
        if not hmac.compare_digest(key.encode(), self.store.consumer_key.encode()):
            return _error(401, "woocommerce_rest_authentication_error",
                          "Consumer key is invalid.")
        if not hmac.compare_digest((secret or "").encode(),
                                   self.store.consumer_secret.encode()):
            return _error(401, "woocommerce_rest_authentication_error",
                          "Consumer secret is invalid.")
        return None

    # --- test switches ----------------------------------------------------------------

    def handle_control(self, method: str, path: str, body: Any) -> Response:
        body = body if isinstance(body, dict) else {}
        try:
            return self._control(method, path.removeprefix("/_sandbox"), body)
        except StoreError as error:
            return _error(error.status, error.code, error.message)
        except (TypeError, ValueError) as error:
            return _error(400, "sandbox_invalid", str(error))

    def _control(self, method: str, path: str, body: dict[str, Any]) -> Response:
        if (method, path) == ("GET", "/state"):
            return Response(200, self.state())
        if (method, path) == ("POST", "/seed"):
            ids = self.store.seed_catalog(products=int(body.get("products", 10)),
                                          variable_every=int(body.get("variable_every", 3)),
                                          seed=body.get("seed"))
            return Response(201, {"product_ids": ids})
        if (method, path) == ("POST", "/orders"):
            order = order_ops.order_create(self.store, {"status": "processing", **body})
            return Response(201, order_ops.order_view(self.store.view(order)))
        if (method, path) == ("POST", "/faults"):
            self.set_faults(body)
            return Response(200, {"ok": True})
        if (method, path) == ("DELETE", "/faults"):
            self.set_faults({})
            return Response(200, {"ok": True})
        if (method, path) == ("POST", "/clock"):
            with self.store.lock:
                self.store.clock_offset_s += float(body.get("advance_s", 0))
            return Response(200, {"now": self.store.stamp()})
        if (method, path) == ("POST", "/webhooks/flush"):
            released = self.dispatcher.release_held()
            done = self.dispatcher.flush(float(body.get("timeout_s", 10)))
            return Response(200, {"released": released, "drained": done})
        return _error(404, "rest_no_route", "No such sandbox switch.")

    def set_faults(self, spec: dict[str, Any]) -> None:
        with self.lock:
            self.faults = RestFaults(
                error_count=int(spec.get("error_count", 0)),
                error_status=int(spec.get("error_status", 503)),
                malformed_count=int(spec.get("malformed_count", 0)),
                latency_ms=int(spec.get("latency_ms", 0)),
                rate_limit=float(spec.get("rate_limit", 0)),
                tokens=max(1.0, float(spec.get("rate_limit", 0))))
        self.dispatcher.faults = Faults(drop=int(spec.get("webhook_drop", 0)),
                                        duplicate=int(spec.get("webhook_duplicate", 0)),
                                        reorder=bool(spec.get("webhook_reorder", False)))

    def state(self) -> dict[str, Any]:
        with self.store.lock:
            return {
                "products": len(self.store.products),
                "variations": len(self.store.variations),
                "orders": len(self.store.orders),
                "webhooks": [{k: h[k] for k in ("id", "topic", "status", "delivery_url",
                                                "failure_count")}
                             for h in self.store.webhooks.values()],
                "deliveries": list(self.dispatcher.log),
                "calls": [f"{method} {path}" for method, path in self.calls],
            }


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status}})


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests and the demo read the store's state, not access logs

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._send(_error(400, "rest_invalid_json", "Invalid JSON body passed."))
            return
        with sandbox.dispatcher.request_scope():
            if url.path.startswith("/_sandbox/"):
                response = sandbox.handle_control(self.command, url.path, body)
            elif url.path.startswith("/wp-json"):
                request = Request(self.command, url.path.rstrip("/") or "/",
                                  dict(parse_qsl(url.query)), body, sandbox.base_url)
                response = sandbox.handle_rest(request, self.headers.get("Authorization", ""))
            else:
                response = _error(404, "rest_no_route", "Not a REST API address.")
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _send(self, response: Response) -> None:
        headers = dict(response.headers)
        if isinstance(response.body, str):
            payload = response.body.encode()
        else:
            payload = json.dumps(response.body).encode()
            headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        if headers.pop("X-Sandbox-Malformed", None):
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


@dataclass
class Running:
    """A simulator serving on a thread (tests, the demo): ``url``, ``sandbox``, ``stop()``."""

    url: str
    sandbox: Sandbox
    server: _Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.sandbox.dispatcher.stop()


def build_store(**options: Any) -> Store:
    return Store(name=options.get("store_name") or "Sandbox Store",
                  currency=options.get("currency") or "INR",
                  consumer_key=options.get("consumer_key") or "ck_sandbox",
                  consumer_secret=options.get("consumer_secret") or "cs_sandbox",
                  seed=int(options.get("seed") or 0))


def start(*, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Running:
    """Serve on a background thread; ``port=0`` picks a free port."""
    store = build_store(**options)
    sandbox = Sandbox(store=store)
    server = _Server((host, port), sandbox)
    url = f"http://{host}:{server.server_address[1]}"
    sandbox.set_base_url(url)
    sandbox.set_faults({"rate_limit": options.get("rate_limit") or 0,
                        "latency_ms": options.get("latency_ms") or 0})
    sandbox.dispatcher.start()
    if options.get("products"):
        store.seed_catalog(products=int(options["products"]))
    thread = threading.Thread(target=server.serve_forever, name="woo-sandbox", daemon=True)
    thread.start()
    return Running(url, sandbox, server, thread)


def run(*, host: str, port: int, **options: Any) -> None:
    """Serve until interrupted (``storesync sandbox woocommerce``)."""
    if host not in LOOPBACK:
        # The /_sandbox switches have no auth and the keys travel in clear: loopback only.
        raise SystemExit("the WooCommerce sandbox listens on the loopback interface only "
                         "(--host 127.0.0.1)")
    running = start(host=host, port=port, **options)
    print(f"WooCommerce sandbox on {running.url} "
          f"(consumer key {running.sandbox.store.consumer_key})", flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
