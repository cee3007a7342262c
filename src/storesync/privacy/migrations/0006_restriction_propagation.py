# Restrictions and their lifting are propagated too (GDPR Art. 19): one request may carry a
# "restriction" and a "restriction_lift" row per recipient, so the action joins the unique key;
# a confirmed row keeps what the recipient did ("note").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_job'),
        ('privacy', '0005_restriction_requests'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='propagation',
            name='propagation_recipient',
        ),
        migrations.AddField(
            model_name='propagation',
            name='note',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name='propagation',
            name='action',
            field=models.CharField(max_length=20),
        ),
        migrations.AddConstraint(
            model_name='propagation',
            constraint=models.UniqueConstraint(fields=('request', 'recipient_type', 'recipient_id', 'action'), name='propagation_recipient_action'),
        ),
    ]
