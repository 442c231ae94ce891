"""Minting and lifecycle operations on ``APIKey`` rows, each through core's rules.

Every change loads the row's record, asks core for the changed record
(``KeyRecord.revoked`` / ``disabled`` / ``enabled`` / ``updated`` / ``rotated``) and
writes it back inside a transaction with the row locked, so concurrent changes
serialize. Once the transaction commits, the engine's record cache (``record_cache``
in ``KEYPROOF_ENGINE``) forgets the key, so this process's next request sees the
change; other processes see it when their entry expires (``ttl_seconds``). The
minted key is returned once (``MintedKey.key``) and never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import transaction

from keyproof import KeyRecord, MintedKey
from keyproof.contrib.django.models import APIKey
from keyproof.django import _setting, get_engine


def mint_format() -> str | None:
    """``KEYPROOF_MINT_FORMAT``, else None: the engine config's first format."""
    configured = getattr(settings, "KEYPROOF_MINT_FORMAT", None)
    return str(configured) if configured else None


def mint_key(*, owned_by: Any = None, format: str | None = None, **options: Any) -> tuple[MintedKey, APIKey]:
    """Mints a key (``Engine.mint`` options: name, scopes, role, expires_in, …; the
    policy's name rules apply) and stores its record; ``owned_by``: the
    ``KEYPROOF_OWNER_MODEL`` instance (the row's ``owner``), if any."""
    minted = get_engine().mint(format or mint_format(), **options)
    row = APIKey.from_record(minted.record, owner=owned_by)
    row.save(force_insert=True)
    return minted, row


def forget_cached(key_id: str) -> None:
    """Has the engine's record cache forget ``key_id`` once the current transaction
    commits (at once outside one): a change stored, then the stale entry dropped.
    ``KEYPROOF_KEY_CHANGED`` (a function of the key id, or its dotted path; e.g. a
    ``keyproof.redis_cache.RecordCacheSync``'s ``publish``) is then told, so other
    processes can drop it too."""

    def forget() -> None:
        get_engine().invalidate_cached(key_id)
        if (changed := _setting("KEYPROOF_KEY_CHANGED")) is not None:
            changed(key_id)

    transaction.on_commit(forget)


def change(key_id: str, op: Callable[[KeyRecord], KeyRecord]) -> APIKey:
    """Applies core's operation ``op`` to the stored record of ``key_id`` (row locked)."""
    with transaction.atomic():
        row = APIKey.objects.select_for_update().get(pk=key_id)
        row.set_record(op(row.to_record()))
        row.save()
        forget_cached(key_id)
        return row


def revoke_key(key_id: str) -> APIKey:
    """Revokes for good (idempotent)."""
    return change(key_id, lambda r: r.revoked())


def disable_key(key_id: str) -> APIKey:
    """Switches off until enabled (revoked keys refuse: ``invalid_transition``)."""
    return change(key_id, lambda r: r.disabled())


def enable_key(key_id: str) -> APIKey:
    """Switches a disabled key back on."""
    return change(key_id, lambda r: r.enabled())


def update_key(key_id: str, changes: Mapping[str, Any]) -> APIKey:
    """Applies a core ``RecordUpdate`` (name, scopes, role, allowed_ips, allowed_origins, expires_at, plan,
    features, metadata, client_id); core validates every field."""
    return change(key_id, lambda r: r.updated(dict(changes)))


def rotate_key(key_id: str, grace: timedelta | None = None) -> tuple[MintedKey, APIKey, APIKey]:
    """Mints the replacement and marks the old key rotated (valid for ``grace``, default
    the policy's ``rotation_grace_hours``), in one transaction. Returns the new key
    (shown once), its row and the old row. A refused rotation (revoked, disabled or
    already rotated: ``invalid_transition``) rolls the new row back."""
    with transaction.atomic():
        old = APIKey.objects.select_for_update().get(pk=key_id)
        minted, rotated = get_engine().rotate(old.to_record(), grace=grace)
        new = APIKey.from_record(minted.record, owner=old.owner)
        new.save(force_insert=True)
        old.set_record(rotated)
        old.save()
        forget_cached(key_id)
        return minted, new, old
