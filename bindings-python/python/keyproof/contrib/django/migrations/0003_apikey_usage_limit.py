# A key's usage limit: units per day, per month or in all (core's KeyRecord.usage_limit).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("keyproof", "0002_apikey_rate_limits")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.AddField(
            model_name="apikey",
            name="usage_limit",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
