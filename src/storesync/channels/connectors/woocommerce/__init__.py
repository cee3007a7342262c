"""WooCommerce connector (REST API v3): ``client`` (HTTP, auth, errors, paging), ``mapping``
(v3 JSON -> records), ``webhooks`` (signatures, topics), ``connector`` (the Protocol)."""

from storesync.channels.connectors.woocommerce.connector import Connector

__all__ = ["Connector"]
