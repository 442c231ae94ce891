"""Key records in SQLAlchemy 2.x (sync and asyncio): a table, a lookup for ``Verifier``,
last-used writes, request counts and core's lifecycle operations.

``KeyRecordMixin`` adds the record's columns (``keyproof.columns``) to your declarative
model; ``APIKey`` is a ready one (table ``keyproof_api_keys``, on ``KeyproofBase``).
``KeyStore(engine)`` / ``AsyncKeyStore(async_engine)`` run SQLAlchemy Core statements
on that table:

    store = AsyncKeyStore(create_async_engine("postgresql+psycopg://…"))
    verifier = store.verifier(engine)          # lookup, hash upgrades, last use
    counting = store.verifier(engine, count_requests=True)  # + a request count per key
    minted = await store.mint(engine, name="CI", scopes=["briefs:read"])  # minted.key: show once
    await store.revoke(minted.record.id)

Every change locks the row (``SELECT … FOR UPDATE`` where the database has it), asks
core for the changed record and writes it back in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from keyproof._keyproof import Engine, KeyRecord, MintedKey, is_record_id
from keyproof.columns import from_columns, to_columns, utc
from keyproof.verifier import Verifier

Op = Callable[[KeyRecord], KeyRecord]
_TEXT = sa.String(255)
_TIME = sa.DateTime(timezone=True)


class KeyRecordMixin:
    """The columns of a key record; the hash is unique (the lookup's index)."""

    id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(1000))
    hash: Mapped[str] = mapped_column(_TEXT, unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), index=True)
    preview: Mapped[str] = mapped_column(_TEXT)
    format: Mapped[str] = mapped_column(sa.String(128))
    environment: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    owner_organization: Mapped[str | None] = mapped_column(_TEXT)
    owner_workspace: Mapped[str | None] = mapped_column(_TEXT)
    owner_profile: Mapped[str | None] = mapped_column(_TEXT)
    client_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    role: Mapped[str | None] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(_TIME)
    updated_at: Mapped[datetime] = mapped_column(_TIME)
    expires_at: Mapped[datetime | None] = mapped_column(_TIME)
    revoked_at: Mapped[datetime | None] = mapped_column(_TIME)
    replaced_by: Mapped[str | None] = mapped_column(sa.String(128))
    rotated_at: Mapped[datetime | None] = mapped_column(_TIME)
    grace_until: Mapped[datetime | None] = mapped_column(_TIME)
    allowed_ips: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    plan: Mapped[str | None] = mapped_column(sa.String(128))
    rate_limits: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    usage_limit: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    features: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)
    last_used_at: Mapped[datetime | None] = mapped_column(_TIME)
    #: Added after the first release: existing tables need
    #: ``ALTER TABLE … ADD COLUMN request_count BIGINT NOT NULL DEFAULT 0``.
    request_count: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    #: Added later still: ``ALTER TABLE … ADD COLUMN allowed_origins JSON`` (NULL reads as none).
    allowed_origins: Mapped[list[str] | None] = mapped_column(sa.JSON, default=list)


class KeyproofBase(DeclarativeBase):
    """The declarative base of ``APIKey`` (``KeyproofBase.metadata.create_all(engine)``)."""


class APIKey(KeyRecordMixin, KeyproofBase):
    """The ready-made table ``keyproof_api_keys``."""

    __tablename__ = "keyproof_api_keys"


def _table(model: Any) -> sa.Table:
    table = model if isinstance(model, sa.Table) else model.__table__
    assert isinstance(table, sa.Table)
    return table


def _rows(record: KeyRecord) -> dict[str, Any]:
    """The values to write for ``record``, by column name (instants in UTC)."""
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in to_columns(record).items()}


class _Statements:
    """The SQL of both stores, on one table."""

    def __init__(self, model: Any) -> None:
        self.table = _table(model)

    def by_hash(self, hash: str) -> sa.Select[Any]:
        return sa.select(self.table).where(self.table.c.hash == hash)

    def by_id(self, key_id: str) -> sa.Select[Any]:
        return sa.select(self.table).where(self.table.c.id == key_id)

    def lookup(self, value: str) -> sa.Select[Any]:
        """By storage hash or, for an access token under ``confirm_record``, by key id."""
        return self.by_id(value) if is_record_id(value) else self.by_hash(value)

    def locked(self, key_id: str) -> sa.Select[Any]:
        """The row, locked until the transaction ends (``FOR UPDATE``; SQLite locks the database)."""
        return self.by_id(key_id).with_for_update()

    def all(self) -> sa.Select[Any]:
        return sa.select(self.table).order_by(self.table.c.created_at, self.table.c.id)

    def insert(self, record: KeyRecord) -> sa.Insert:
        return sa.insert(self.table).values(_rows(record))

    def update(self, record: KeyRecord) -> sa.Update:
        return sa.update(self.table).where(self.table.c.id == record.id).values(_rows(record))

    def upgrade(self, record: KeyRecord) -> sa.Update:
        c = self.table.c
        return (
            sa.update(self.table)
            .where(c.id == record.id)
            .values(hash=record.hash, fingerprint=record.fingerprint)
        )

    def touch(self, key_id: str, at: datetime) -> sa.Update:
        """Sets the last use, unless a newer one is stored (concurrent requests race)."""
        c = self.table.c
        newer = sa.or_(c.last_used_at.is_(None), c.last_used_at < utc(at))
        return sa.update(self.table).where(c.id == key_id, newer).values(last_used_at=utc(at))

    def count(self, key_id: str) -> sa.Update:
        """One more request for the key: an increment in the database, so none is lost."""
        c = self.table.c
        return sa.update(self.table).where(c.id == key_id).values(request_count=c.request_count + 1)


def _found(row: sa.Row[Any] | None, key_id: str) -> KeyRecord:
    if row is None:
        raise LookupError(f"no key {key_id}")
    return from_columns(row._mapping)


class KeyStore:
    """Key records in a database through a synchronous ``sqlalchemy.Engine``. Its
    lifecycle methods drop the changed key from the record cache of every keyproof
    engine it made a verifier for, once the change is committed."""

    def __init__(self, engine: sa.Engine, model: Any = APIKey) -> None:
        self.engine, self.sql = engine, _Statements(model)
        self._served: list[Engine] = []

    def _forget(self, key_id: str) -> None:
        for served in self._served:
            served.invalidate_cached(key_id)

    def create_table(self) -> None:
        """Creates the table if it does not exist (use migrations in production)."""
        self.sql.table.create(self.engine, checkfirst=True)

    def verifier(self, engine: Engine, *, count_requests: bool = False, **kwargs: Any) -> Verifier:
        """A ``Verifier`` reading this table, finishing hash upgrades and writing last use;
        with ``count_requests``, also one UPDATE per allowed request (``request_count``)."""
        count = self.count if count_requests else None
        if all(served is not engine for served in self._served):
            self._served.append(engine)
        return Verifier(engine, self.lookup, self.save, touch=self.touch, count=count, **kwargs)

    def lookup(self, value: str) -> KeyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(self.sql.lookup(value)).first()
        return None if row is None else from_columns(row._mapping)

    def save(self, record: KeyRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql.upgrade(record))

    def touch(self, key_id: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql.touch(key_id, at))

    def count(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql.count(key_id))

    def get(self, key_id: str) -> KeyRecord:
        with self.engine.connect() as conn:
            return _found(conn.execute(self.sql.by_id(key_id)).first(), key_id)

    def list(self) -> list[KeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(self.sql.all()).all()
        return [from_columns(r._mapping) for r in rows]

    def insert(self, record: KeyRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql.insert(record))

    def mint(self, engine: Engine, format: str | None = None, **options: Any) -> MintedKey:
        """Mints with ``engine`` (its hasher and name rules; format: its first by default) and stores
        the record; show ``.key`` once."""
        minted = engine.mint(format, **options)
        self.insert(minted.record)
        return minted

    def change(self, key_id: str, op: Op) -> KeyRecord:
        """Applies core's operation ``op`` to the stored record (row locked, one transaction)."""
        with self.engine.begin() as conn:
            record = op(_found(conn.execute(self.sql.locked(key_id)).first(), key_id))
            conn.execute(self.sql.update(record))
        self._forget(key_id)
        return record

    def revoke(self, key_id: str) -> KeyRecord:
        return self.change(key_id, lambda r: r.revoked())

    def disable(self, key_id: str) -> KeyRecord:
        return self.change(key_id, lambda r: r.disabled())

    def enable(self, key_id: str) -> KeyRecord:
        return self.change(key_id, lambda r: r.enabled())

    def update(self, key_id: str, changes: dict[str, Any]) -> KeyRecord:
        return self.change(key_id, lambda r: r.updated(changes))

    def rotate(self, engine: Engine, key_id: str, grace: timedelta | None = None) -> MintedKey:
        """Mints the replacement and marks the old key rotated, in one transaction."""
        with self.engine.begin() as conn:
            old = _found(conn.execute(self.sql.locked(key_id)).first(), key_id)
            minted, rotated = engine.rotate(old, grace=grace)
            conn.execute(self.sql.insert(minted.record))
            conn.execute(self.sql.update(rotated))
        self._forget(key_id)
        return minted


class AsyncKeyStore:
    """``KeyStore`` over an ``AsyncEngine`` (asyncpg, psycopg async, aiosqlite)."""

    def __init__(self, engine: AsyncEngine, model: Any = APIKey) -> None:
        self.engine, self.sql = engine, _Statements(model)

    async def create_table(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda sync: self.sql.table.create(sync, checkfirst=True))

    def verifier(self, engine: Engine, *, count_requests: bool = False, **kwargs: Any) -> Verifier:
        """A ``Verifier`` (use ``averify``) reading this table (``count_requests`` as for ``KeyStore``)."""
        count = self.count if count_requests else None
        return Verifier(engine, self.lookup, self.save, touch=self.touch, count=count, **kwargs)

    async def lookup(self, value: str) -> KeyRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(self.sql.lookup(value))).first()
        return None if row is None else from_columns(row._mapping)

    async def save(self, record: KeyRecord) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.sql.upgrade(record))

    async def touch(self, key_id: str, at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.sql.touch(key_id, at))

    async def count(self, key_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.sql.count(key_id))

    async def get(self, key_id: str) -> KeyRecord:
        async with self.engine.connect() as conn:
            return _found((await conn.execute(self.sql.by_id(key_id))).first(), key_id)

    async def list(self) -> list[KeyRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(self.sql.all())).all()
        return [from_columns(r._mapping) for r in rows]

    async def insert(self, record: KeyRecord) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.sql.insert(record))

    async def mint(self, engine: Engine, format: str | None = None, **options: Any) -> MintedKey:
        minted = engine.mint(format, **options)
        await self.insert(minted.record)
        return minted

    async def change(self, key_id: str, op: Op) -> KeyRecord:
        async with self.engine.begin() as conn:
            record = op(await self._locked(conn, key_id))
            await conn.execute(self.sql.update(record))
        return record

    async def _locked(self, conn: AsyncConnection, key_id: str) -> KeyRecord:
        return _found((await conn.execute(self.sql.locked(key_id))).first(), key_id)

    async def revoke(self, key_id: str) -> KeyRecord:
        return await self.change(key_id, lambda r: r.revoked())

    async def disable(self, key_id: str) -> KeyRecord:
        return await self.change(key_id, lambda r: r.disabled())

    async def enable(self, key_id: str) -> KeyRecord:
        return await self.change(key_id, lambda r: r.enabled())

    async def update(self, key_id: str, changes: dict[str, Any]) -> KeyRecord:
        return await self.change(key_id, lambda r: r.updated(changes))

    async def rotate(self, engine: Engine, key_id: str, grace: timedelta | None = None) -> MintedKey:
        async with self.engine.begin() as conn:
            old = await self._locked(conn, key_id)
            minted, rotated = engine.rotate(old, grace=grace)
            await conn.execute(self.sql.insert(minted.record))
            await conn.execute(self.sql.update(rotated))
        return minted
