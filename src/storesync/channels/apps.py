from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "storesync.channels"
    label = "channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        from storesync.channels import fulfillments, outbox, propagation
        from storesync.inventory.signals import stock_changed
        from storesync.orders.signals import fulfillment_created
        from storesync.privacy import signals as privacy_signals
        from storesync.privacy.erasure import register_erasure_step

        stock_changed.connect(outbox.on_stock_changed, dispatch_uid="channels_outbox")
        fulfillment_created.connect(fulfillments.on_fulfillment_created,
                                    dispatch_uid="channels_fulfillments")
        privacy_signals.erasure_requested.connect(propagation.on_erasure_requested,
                                                  dispatch_uid="channels_erasure")
        privacy_signals.correction_requested.connect(propagation.on_correction_requested,
                                                     dispatch_uid="channels_correction")
        privacy_signals.restriction_requested.connect(propagation.on_restriction_requested,
                                                      dispatch_uid="channels_restriction")
        privacy_signals.restriction_lift_requested.connect(
            propagation.on_restriction_lift_requested, dispatch_uid="channels_restriction_lift")
        register_erasure_step("channels.erasure_targets", propagation.capture_erasure_targets,
                              first=True)
        _register_retention()


def _register_retention() -> None:
    """Webhook bodies carry buyers' contact details: kept 30 days for replays and audits,
    then deleted by the privacy engine's sweep once handled. Events not processed yet and held
    privacy requests wait."""
    from datetime import timedelta

    from storesync.channels.models import InboxEvent, InboxState
    from storesync.privacy.retention import (
        RetentionTarget,
        delete_rows,
        register_retention_target,
    )

    register_retention_target(RetentionTarget(
        "channels.inbox_event", "webhook payloads: deleted 30 days after they arrived, once "
        "handled",
        lambda ws, now, settings: InboxEvent.objects.filter(
            received_at__lt=now - timedelta(days=30),
            state__in=[InboxState.PROCESSED, InboxState.FAILED, InboxState.SKIPPED]),
        delete_rows(InboxEvent)))
