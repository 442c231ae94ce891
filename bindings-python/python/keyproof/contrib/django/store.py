"""The verifier's side of the ``APIKey`` table: lookup by hash (or key id), hash upgrades,
last use and request counts.

``keyproof.django`` uses these by default when this app is installed and no
``KEYPROOF_LOOKUP`` / ``KEYPROOF_VERIFIER`` is set.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q

from keyproof import KeyRecord, is_record_id
from keyproof.contrib.django.models import APIKey, db_time


def lookup(value: str) -> KeyRecord | None:
    """The record stored under the storage hash ``value`` or, for an access token
    under ``confirm_record``, with the key id ``value``; None if there is none."""
    rows = APIKey.objects.filter(pk=value) if is_record_id(value) else APIKey.objects.filter(hash=value)
    row = rows.first()
    return None if row is None else row.to_record()


def save(record: KeyRecord) -> None:
    """Stores a record whose hash core upgraded (finishes a hash migration)."""
    APIKey.objects.filter(pk=record.id).update(hash=record.hash, fingerprint=record.fingerprint)


def touch(key_id: str, at: datetime) -> None:
    """Writes ``at`` as the key's last use, unless a newer one is stored (one UPDATE)."""
    at = db_time(at)  # type: ignore[assignment]
    newer = Q(last_used_at__isnull=True) | Q(last_used_at__lt=at)
    APIKey.objects.filter(newer, pk=key_id).update(last_used_at=at)


def count(key_id: str) -> None:
    """One more request for the key (``request_count``): an increment in the database, so none is lost."""
    APIKey.objects.filter(pk=key_id).update(request_count=F("request_count") + 1)
