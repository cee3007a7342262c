"""A local WooCommerce store speaking REST API v3 and delivering signed webhooks.

``server`` (HTTP, auth, faults, ``storesync sandbox woocommerce``), ``rest`` (the v3 routes),
``state`` (catalog), ``orders`` (orders, refunds, notes), ``webhooks`` (delivery).
"""
