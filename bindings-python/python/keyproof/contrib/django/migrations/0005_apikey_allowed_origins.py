# The websites a browser may use each key from (core's KeyRecord.allowed_origins).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("keyproof", "0004_apikey_request_count")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.AddField(
            model_name="apikey",
            name="allowed_origins",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
