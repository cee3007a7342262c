from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "storesync.customers"
    label = "customers"
    verbose_name = "Customers"
