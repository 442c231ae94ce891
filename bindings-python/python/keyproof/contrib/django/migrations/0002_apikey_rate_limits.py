# A key's own quotas by rate-limit class (core's KeyRecord.rate_limits).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("keyproof", "0001_initial")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.AddField(
            model_name="apikey",
            name="rate_limits",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
