# The platform marketing consents a restriction switched off, given back when it is lifted.

import django.db.models.deletion
import storesync.core.ids
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0005_privacy_propagation'),
        ('core', '0003_job'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConsentHold',
            fields=[
                ('id', models.UUIDField(default=storesync.core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                ('customer_id', models.CharField(max_length=100)),
                ('channel', models.CharField(max_length=8)),
                ('state', models.CharField(max_length=20)),
                ('opt_in_level', models.CharField(blank=True, max_length=20)),
                ('changed_at', models.CharField(blank=True, max_length=40)),
                ('request_id', models.UUIDField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='channels.connection')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.workspace')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('connection', 'customer_id', 'channel'), name='consent_hold_once')],
            },
        ),
    ]
