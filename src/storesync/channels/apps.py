from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "storesync.channels"
    label = "channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        from storesync.channels import fulfillments, outbox
        from storesync.inventory.signals import stock_changed
        from storesync.orders.signals import fulfillment_created

        stock_changed.connect(outbox.on_stock_changed, dispatch_uid="channels_outbox")
        fulfillment_created.connect(fulfillments.on_fulfillment_created,
                                    dispatch_uid="channels_fulfillments")
