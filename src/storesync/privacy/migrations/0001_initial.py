# The privacy app's first migration: empty, so that its parts can be built in parallel, each
# with a migration that depends on this one.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations: list[migrations.operations.base.Operation] = []
