# Workspaces created before the privacy engine get what new ones get from the post_save signal:
# their storefront privacy settings and the built-in courier and payment-processor profiles.
# The profiles are copied here (not imported) so that this migration never changes meaning.
import secrets

from django.db import migrations

ADDRESS = ["user.contact.address.city", "user.contact.address.postal_code",
           "user.contact.address.region", "user.contact.address.street"]
PROFILES = {
    "Courier (built-in profile)": ("courier", sorted(
        ["user.name", "user.contact.phone", "order.reference", *ADDRESS])),
    "Payment processor (built-in profile)": ("payment_processor", sorted(
        ["user.name", "user.contact.email", "user.contact.phone", "order.reference",
         "order.amount"])),
}


def seed(apps, schema_editor):
    Workspace = apps.get_model("core", "Workspace")
    PrivacySettings = apps.get_model("privacy", "PrivacySettings")
    Processor = apps.get_model("privacy", "Processor")
    for workspace in Workspace.objects.all().iterator():
        if not PrivacySettings.objects.filter(workspace_id=workspace.id).exists():
            PrivacySettings.objects.create(
                workspace_id=workspace.id, public_key="pk_" + secrets.token_urlsafe(18),
                minimum_age=18 if workspace.country == "IN" else 16)
        for name, (kind, categories) in PROFILES.items():
            if not Processor.objects.filter(workspace_id=workspace.id, name=name).exists():
                Processor.objects.create(workspace_id=workspace.id, name=name, kind=kind,
                                         categories=categories, country=workspace.country,
                                         safeguard="domestic", builtin=True)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_consent_policies_processors_breaches"),
                    ("core", "0002_workspace_currency")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
