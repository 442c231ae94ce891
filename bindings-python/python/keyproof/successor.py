"""What a rotation needs: the replacement key's mint options and the grace period.

Core has ``KeyRecord::successor_options``; the Python binding does not expose it
yet, so the stores (``keyproof.contrib.django``, ``keyproof.sqlalchemy``) use this
mirror of it: the old key's grants, and an expiry as far from now as the old key's
was from its creation.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from keyproof._keyproof import Engine, KeyRecord


def successor_options(record: KeyRecord) -> dict[str, Any]:
    """``keyproof.mint`` options (besides the format) for the key replacing ``record``."""
    options: dict[str, Any] = {
        "name": record.name,
        "scopes": record.scopes,
        "role": record.role,
        "allowed_ips": record.allowed_ips,
        "plan": record.plan,
        "features": record.features,
        "metadata": record.metadata,
        "owner": record.owner,
        "client_id": record.client_id,
    }
    if record.expires_at is not None:
        options["expires_at"] = datetime.now(timezone.utc) + (record.expires_at - record.created_at)
    return {k: v for k, v in options.items() if v not in (None, [], {})}


def rotation_grace(engine: Engine, grace: timedelta | None = None) -> timedelta:
    """``grace``, else the policy's ``rotation_grace_hours``."""
    if grace is not None:
        return grace
    return timedelta(hours=int(engine.policy.to_dict()["rotation_grace_hours"]))
