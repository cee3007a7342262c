"""Channel connectors: one package per platform, each implementing ``base.Connector``.

``registry.connector_for(connection)`` is the only place that maps a platform name to its
package; the engine (inbox, outbox, dispatcher, reconciliation) never branches on platform.
"""
