"""Shopify connector: the GraphQL Admin API (2026-04) behind ``base.Connector``.

``client`` (one API call: cost-aware throttling, errors), ``queries`` (the documents),
``mapping`` (Shopify shapes -> records), ``catalog`` (paged and bulk export), ``orders``
(polling, fulfillments), ``webhooks`` (HMAC, topics), ``connector`` (the class).
"""

from storesync.channels.connectors.shopify.connector import Connector

__all__ = ["Connector"]
