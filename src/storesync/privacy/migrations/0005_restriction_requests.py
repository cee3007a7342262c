# Each restriction flag names the request that set it. Rows written before this kept only the
# latest request: that request's kind says which flag it set; flags set by an earlier request
# stay unattributed (their reason then names no request).
import django.db.models.deletion
from django.db import migrations, models

FLAG_OF_KIND = {"restriction": "restricted", "objection": "objected", "do_not_sell": "do_not_sell"}


def attribute(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # every workspace's rows, this once
        schema_editor.execute("SELECT set_config('storesync.bypass_rls', 'on', true)")
    SubjectRestriction = apps.get_model("privacy", "SubjectRestriction")
    rows = SubjectRestriction.objects.filter(request__isnull=False).select_related("request")
    for row in rows.iterator():
        flag = FLAG_OF_KIND.get(row.request.kind)
        if flag and getattr(row, flag):
            setattr(row, f"{flag}_by_id", row.request_id)
            row.save(update_fields=[f"{flag}_by"])


class Migration(migrations.Migration):

    dependencies = [
        ('privacy', '0004_rights'),
    ]

    operations = [
        migrations.AddField(
            model_name='subjectrestriction',
            name='do_not_sell_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='privacy.datasubjectrequest'),
        ),
        migrations.AddField(
            model_name='subjectrestriction',
            name='objected_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='privacy.datasubjectrequest'),
        ),
        migrations.AddField(
            model_name='subjectrestriction',
            name='restricted_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='privacy.datasubjectrequest'),
        ),
        migrations.RunPython(attribute, migrations.RunPython.noop),
    ]
