"""A key record as flat database columns, shared by the Django app and the SQLAlchemy store.

Every field of core's record gets its own column (so it can be indexed and
queried: ``hash`` unique, ``status``, ``expires_at``, ``last_used_at``, ``request_count`` …); the owner's
ids and the rotation become ``owner_*`` and ``replaced_by`` / ``rotated_at`` /
``grace_until``. Reading a row rebuilds the record through core, which validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from keyproof._keyproof import KeyRecord

#: Column names, in table order.
COLUMNS = (
    "id", "name", "hash", "fingerprint", "preview", "format", "environment", "kind",
    "owner_organization", "owner_workspace", "owner_profile", "client_id", "scopes", "role", "status",
    "created_at", "updated_at", "expires_at", "revoked_at", "replaced_by", "rotated_at", "grace_until",
    "allowed_ips", "plan", "rate_limits", "usage_limit", "features", "metadata", "last_used_at",
    "request_count", "allowed_origins",
)  # fmt: skip
#: The columns holding instants (UTC).
TIMES = frozenset(
    ("created_at", "updated_at", "expires_at", "revoked_at", "rotated_at", "grace_until", "last_used_at")
)
_OWNER = ("organization", "workspace", "profile")
_ROTATION = ("replaced_by", "rotated_at", "grace_until")
_OPTIONAL = ("client_id", "role", "expires_at", "revoked_at", "plan", "usage_limit", "last_used_at")


def utc(at: datetime | None) -> datetime | None:
    """``at`` as an aware UTC instant; a naive one (SQLite keeps no zone) is UTC."""
    if at is None:
        return None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def to_columns(record: KeyRecord) -> dict[str, Any]:
    """The row of ``record``: column name → value (instants aware, UTC)."""
    data = record.to_dict()
    owner, rotation = record.owner, record.rotation
    row: dict[str, Any] = {name: data.get(name) for name in COLUMNS}
    row.update({f"owner_{k}": getattr(owner, k) for k in _OWNER})
    row.update({k: getattr(rotation, k) if rotation else None for k in _ROTATION})
    row.update({k: getattr(record, k) for k in TIMES if k not in _ROTATION})
    for name, empty in (
        ("scopes", []),
        ("allowed_ips", []),
        ("allowed_origins", []),
        ("features", []),
        ("metadata", {}),
        ("rate_limits", {}),
    ):
        row[name] = row[name] if row[name] is not None else empty
    row["request_count"] = record.request_count
    return row


def from_columns(row: Mapping[Any, Any]) -> KeyRecord:
    """The record stored in ``row`` (column name → value), validated by core."""
    data: dict[str, Any] = {
        name: row[name]
        for name in (
            "id",
            "name",
            "hash",
            "fingerprint",
            "preview",
            "format",
            "environment",
            "kind",
            "status",
        )
    }
    data["owner"] = {k: row[f"owner_{k}"] for k in _OWNER if row[f"owner_{k}"] is not None}
    data.update({k: row[k] or [] for k in ("scopes", "allowed_ips", "features")})
    data["metadata"] = row["metadata"] or {}
    data["rate_limits"] = row["rate_limits"] or {}
    data["request_count"] = row.get("request_count") or 0
    data["allowed_origins"] = row.get("allowed_origins") or []
    data.update({k: utc(row[k]) for k in ("created_at", "updated_at")})
    data.update({k: utc(row[k]) if k in TIMES else row[k] for k in _OPTIONAL if row[k] is not None})
    if row["grace_until"] is not None:
        rotation = {k: utc(row[k]) if k in TIMES else row[k] for k in _ROTATION if row[k] is not None}
        data["rotation"] = rotation
    return KeyRecord.from_dict(data)
