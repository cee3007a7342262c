from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "storesync.orders"
    label = "orders"
    verbose_name = "Orders"
