"""A local Shopify shop for tests, the demo and benchmarks (``storesync sandbox shopify``).

It speaks the GraphQL Admin API 2026-04 (a real schema executed with graphql-core), charges
the documented calculated query cost against a leaky bucket per access token, sends signed
webhooks with Shopify's headers and retry policy, and offers ``/_sandbox/...`` endpoints to
create sales, seed a catalog and inject faults. Start with ``server.SandboxServer``.
"""
