# mypy: disable-error-code="var-annotated"
# (model fields are typed by the django-stubs plugin, which this package does not enable)
"""The ``APIKey`` model: one row per core key record (the hash, never the key).

Columns mirror the record's fields so they can be queried and indexed; the
record itself is rebuilt (and validated by core) on every read. ``owner`` is an
optional foreign key to ``KEYPROOF_OWNER_MODEL`` (default ``AUTH_USER_MODEL``);
the record's own owner ids (organization, workspace, profile) are strings.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.conf import settings
from django.db import models

from keyproof import KeyRecord
from keyproof.columns import COLUMNS, TIMES, from_columns, to_columns

#: The model an API key's ``owner`` points to.
OWNER_MODEL: str = getattr(settings, "KEYPROOF_OWNER_MODEL", settings.AUTH_USER_MODEL)


def db_time(at: datetime | None) -> datetime | None:
    """``at`` as the database expects it: aware with ``USE_TZ``, else naive UTC."""
    if at is None or settings.USE_TZ:
        return at
    return at.astimezone(timezone.utc).replace(tzinfo=None)


class APIKey(models.Model):
    """A key record. Change it through ``keyproof.contrib.django.lifecycle`` (core's rules)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        DISABLED = "disabled"
        REVOKED = "revoked"

    id = models.CharField(primary_key=True, max_length=128, editable=False)
    name = models.CharField(max_length=1000)
    hash = models.CharField(max_length=255, unique=True, editable=False)
    fingerprint = models.CharField(max_length=64, db_index=True, editable=False)
    preview = models.CharField(max_length=255, editable=False)
    format = models.CharField(max_length=128, editable=False)
    environment = models.CharField(max_length=64, editable=False)
    kind = models.CharField(max_length=32, editable=False)
    owner = models.ForeignKey(
        OWNER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="keyproof_api_keys"
    )
    owner_organization = models.CharField(max_length=255, null=True, blank=True)
    owner_workspace = models.CharField(max_length=255, null=True, blank=True)
    owner_profile = models.CharField(max_length=255, null=True, blank=True)
    client_id = models.CharField(max_length=128, null=True, blank=True, db_index=True)
    scopes = models.JSONField(default=list, blank=True)
    role = models.CharField(max_length=128, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.CharField(max_length=128, null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    allowed_ips = models.JSONField(default=list, blank=True)
    allowed_origins = models.JSONField(default=list, blank=True)
    plan = models.CharField(max_length=128, null=True, blank=True)
    rate_limits = models.JSONField(default=dict, blank=True)
    usage_limit = models.JSONField(null=True, blank=True)
    features = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    request_count = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.preview})"

    def to_record(self) -> KeyRecord:
        """The core record (validated by core)."""
        return from_columns({name: getattr(self, name) for name in COLUMNS})

    def set_record(self, record: KeyRecord) -> None:
        """Copies every field of ``record`` onto this row (not saved)."""
        for name, value in to_columns(record).items():
            setattr(self, name, db_time(value) if name in TIMES else value)

    @classmethod
    def from_record(cls, record: KeyRecord, **fields: Any) -> APIKey:
        """A new row for ``record`` (``fields``: e.g. ``owner``)."""
        row = cls(**fields)
        row.set_record(record)
        return row
