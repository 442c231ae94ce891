# Requests each key was let through for (core's KeyRecord.request_count; seed 001's per-key counts).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("keyproof", "0003_apikey_usage_limit")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.AddField(
            model_name="apikey",
            name="request_count",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
