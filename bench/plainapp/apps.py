from django.apps import AppConfig


class PlainAppConfig(AppConfig):
    name = "plainapp"
    label = "bench_plain"
