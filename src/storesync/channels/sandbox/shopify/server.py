"""``storesync sandbox shopify --port N``: a local Shopify shop speaking the GraphQL Admin API.

Admin API (as documented on shopify.dev):

- ``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``; a wrong token
  gets 401. The response carries ``extensions.cost`` (``requestedQueryCost``,
  ``actualQueryCost``, ``throttleStatus { maximumAvailable currentlyAvailable restoreRate }``).
  When the bucket cannot pay the requested cost the answer is ``errors[0].extensions.code =
  "THROTTLED"`` (HTTP 200, nothing run); a query requesting more than 1,000 points is refused
  with ``MAX_COST_EXCEEDED``. One bucket per access token, sized by ``--plan`` (see ``cost``).
- ``GET /_sandbox/bulk/<id>.jsonl``: a finished bulk operation's result (the ``url`` field).

Test switches and shop events (JSON in, JSON out; not part of Shopify):

- ``GET /_sandbox/state``: catalog counts, every level, orders with fulfillments,
  subscriptions, customers' marketing states and tags. ``GET /_sandbox/deliveries``: webhook
  delivery attempts. ``GET /_sandbox/stats``: API requests served and throttled.
- ``POST /_sandbox/seed`` ``{"products", "variants_per_product", "seed", "stock"}``: add a
  catalog, the same for the same seed.
- ``POST /_sandbox/orders`` ``{"lines": [{"sku"|"variant_id", "quantity"}], "email",
  "shipping", "buyer_accepts_marketing", "buyer_accepts_sms_marketing"}``: a sale on Shopify:
  stock goes down, orders/create and inventory_levels/update are sent; a buyer who ticked
  checkout's marketing boxes is subscribed (single opt-in).
- ``POST /_sandbox/orders/<id>/cancel`` ``{"reason"}``; ``POST /_sandbox/orders/<id>/refund``
  ``{"lines": [{"line_item_id", "quantity"}], "restock"}``.
- ``POST /_sandbox/products/<id>`` ``{"title"}`` (products/update);
  ``DELETE /_sandbox/products/<id>`` (products/delete).
- ``POST /_sandbox/levels`` ``{"inventory_item_id", "location_id", "available"}``: a merchant
  edit in the Shopify admin.
- ``POST /_sandbox/webhooks/trigger`` ``{"topic", "address"}``: app/uninstalled or a
  compliance topic (customers/data_request, customers/redact, shop/redact).
- ``DELETE /_sandbox/subscriptions/<id>``: Shopify dropped a subscription.
- ``POST /_sandbox/faults``: arm ``faults.Faults`` switches (5xx bursts, THROTTLED, malformed
  bodies, timeouts before or after the work is done, latency, dropped/duplicated/delayed
  webhooks).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from storesync.channels.sandbox.shopify import bulk, control, cost, mutations, resolvers
from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.faults import Faults
from storesync.channels.sandbox.shopify.webhooks import Deliverer

API_PATH = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$")
OPTIONS = ("plan", "bucket_size", "restore_rate", "access_token", "client_secret", "seed",
           "products", "latency_ms", "currency", "webhook_retry_base_s")


@dataclass
class Config:
    plan: str = "standard"
    bucket_size: float | None = None
    restore_rate: float | None = None
    access_token: str = "shpat_sandbox_0000000000000000"
    client_secret: str = "sandbox-client-secret"
    seed: int = 1
    products: int = 0
    latency_ms: int = 0
    currency: str = "INR"
    webhook_retry_base_s: float = 1.0
    shop_domain: str = "sandbox.myshopify.com"


class SandboxServer:
    """The shop, its API and its webhook sender, served over HTTP on one port."""

    def __init__(self, config: Config, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.shop = st.Shop(domain=config.shop_domain, currency=config.currency,
                            plan=config.plan)
        if config.products:
            self.shop.seed_catalog(products=config.products, variants_per_product=3,
                                   seed=config.seed)
        rate = config.restore_rate or cost.RESTORE_RATES.get(config.plan, 100.0)
        self.bucket = cost.LeakyBucket(maximum=config.bucket_size or 20 * rate,
                                       restore_rate=rate)
        self.faults = Faults(latency_ms=config.latency_ms)
        self.schema = resolvers.build(mutations.MUTATIONS)
        self.idempotency: dict[str, tuple[str, Any]] = {}
        self.stats = {"requests": 0, "throttled": 0}
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self.deliverer = Deliverer(self.shop, secret=config.client_secret,
                                   api_version="2026-04", faults=self.faults,
                                   retry_base_s=config.webhook_retry_base_s)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def context(self, *, bulk_mode: bool = False) -> resolvers.Context:
        return resolvers.Context(self.shop, self.emit, self._start_bulk, self.idempotency,
                                 bulk=bulk_mode,
                                 refuse_privacy=lambda: self.faults.take("privacy_refuse"))

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        self.deliverer.publish(topic, payload)

    def _start_bulk(self, op: st.BulkOperation) -> None:
        threading.Thread(target=bulk.run, name="shopify-bulk", daemon=True, args=(
            self.schema, self.context(bulk_mode=True), op,
            lambda o: f"{self.url}/_sandbox/bulk/{o.id}.jsonl")).start()

    def start(self) -> SandboxServer:
        """Serve on a background thread (tests); ``close`` stops it."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                        name="shopify-sandbox")
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever: only if it runs
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
        self.deliverer.close()

    # --- the GraphQL endpoint -----------------------------------------------------------------

    def graphql(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """One Admin API call: cost, bucket, execution; the JSON answer."""
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            return {"errors": [{"message": "Parameter Missing or Invalid",
                                "extensions": {"code": "BAD_REQUEST"}}]}
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [p.formatted for p in problems]}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = body.get("operationName")
        operation = next((o for o in operations if not name or
                          (o.name and o.name.value == name)), None)
        if operation is None:
            return {"errors": [{"message": f"No operation named {name}"}]}
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        requested = cost.query_cost(self.schema, operation, fragments, variables)
        if requested > cost.MAX_QUERY_COST:
            return {"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max "
                           f"cost limit ({cost.MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                               "maxCost": cost.MAX_QUERY_COST}}]}
        forced = self.faults.take("throttle")
        if forced:
            self.bucket.drain(token)
        granted, status = self.bucket.take(token, requested)
        if forced or not granted:
            with self.shop.lock:
                self.stats["throttled"] += 1
            return {"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": _cost(requested, None, status)}}
        with self.shop.lock:
            result = execute(self.schema, document, variable_values=variables,
                             operation_name=name, context_value=self.context())
        assert isinstance(result, ExecutionResult)
        actual = requested if operation.operation.value == "mutation" else cost.query_cost(
            self.schema, operation, fragments, variables, data=result.data or {})
        status = self.bucket.refund(token, requested - actual)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["extensions"] = {"cost": _cost(requested, actual, status)}
        return answer


def _cost(requested: int, actual: int | None, status: cost.BucketState) -> dict[str, Any]:
    return {"requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": status.maximum,
                               "currentlyAvailable": round(status.available, 1),
                               "restoreRate": status.restore_rate}}


def _handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the CLI read the control endpoints instead

        def _send(self, status: int, body: bytes, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any, **headers: str) -> None:
            self._send(status, json.dumps(value, default=str).encode(), headers=headers)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else {}

        def do_GET(self) -> None:
            status, value = control.get(server, self.path)
            if isinstance(value, bytes):
                self._send(status, value, "application/jsonl")
            else:
                self._json(status, value)

        def do_DELETE(self) -> None:
            self._json(*control.delete(server, self.path))

        def do_POST(self) -> None:
            try:
                body = self._body()
            except ValueError:
                self._json(400, {"errors": "invalid JSON body"})
                return
            match = API_PATH.match(self.path.split("?")[0])
            if match:
                self._api(match.group(1), body)
            else:
                self._json(*control.post(server, self.path, body))

        def _api(self, version: str, body: Any) -> None:
            _serve_api(self, server, version, body)
    return Handler


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


CURRENCIES = ("AED", "AUD", "CAD", "EUR", "GBP", "INR", "JPY", "SGD", "USD")


def _serve_api(handler: Any, server: SandboxServer, version: str, body: Any) -> None:
    """Auth, fault switches, then the GraphQL call (``handler`` is the request handler)."""
    faults = server.faults
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    token = handler.headers.get("X-Shopify-Access-Token")
    if token != server.config.access_token:
        handler._json(401, {"errors": "[API] Invalid API key or access token "
                                      "(unrecognized login or wrong password)"})
        return
    with server.shop.lock:
        server.stats["requests"] += 1
    if faults.take("timeout"):
        time.sleep(faults.timeout_s)
    if faults.take("http_5xx"):
        handler._json(faults.status_5xx, {"errors": "Service Unavailable"})
        return
    if faults.take("malformed"):
        handler._send(200, b"<html><body>upstream hiccup", "text/html")
        return
    answer = server.graphql(token, body if isinstance(body, dict) else {})
    if faults.take("lost_response"):  # done, but the client gives up waiting
        time.sleep(faults.timeout_s)
    handler._json(200, answer, **{"X-Shopify-API-Version": version})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's own options (``storesync sandbox shopify --help``)."""
    parser.add_argument("--plan", choices=sorted(cost.RESTORE_RATES), default="standard",
                        help="shop plan: sets the API restore rate and bucket size")
    parser.add_argument("--bucket-size", type=_positive, default=None,
                        help="API bucket size in points (default: 20 x restore rate)")
    parser.add_argument("--restore-rate", type=_positive, default=None,
                        help="API restore rate in points per second (default: by plan)")
    parser.add_argument("--access-token", default=Config.access_token,
                        help="the Admin API access token the shop accepts")
    parser.add_argument("--client-secret", default=Config.client_secret,
                        help="the app's client secret that signs webhooks")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated catalog")
    parser.add_argument("--products", type=_count, default=20,
                        help="products to generate at start (three variants each)")
    parser.add_argument("--latency-ms", type=_count, default=0,
                        help="delay added to every API request")
    parser.add_argument("--currency", default="INR", choices=CURRENCIES,
                        help="the shop's currency")
    parser.add_argument("--webhook-retry-base-s", type=_positive, default=1.0,
                        help="first webhook retry delay; each retry doubles it")


def run(*, host: str, port: int, **options: Any) -> None:
    """Serve until interrupted."""
    known = {f.name for f in fields(Config)}
    config = Config(**{k: v for k, v in options.items() if k in known and v is not None})
    server = SandboxServer(config, host=host, port=port)
    print(f"Shopify sandbox on {server.url} (plan {config.plan}, "
          f"{len(server.shop.products)} products)\n"
          f"shop: {server.url}\naccess_token: {config.access_token}\n"
          f"client_secret: {config.client_secret}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.deliverer.close()
