"""``manage.py keyproof_revoke ID…``: revokes keys for good."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keyproof import KeyproofError
from keyproof.contrib.django import lifecycle
from keyproof.contrib.django.models import APIKey


class Command(BaseCommand):
    help = "Revokes API keys by id (core's revoke: idempotent, permanent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="+")

    def handle(self, *args: Any, **o: Any) -> None:
        for key_id in o["ids"]:
            try:
                row = lifecycle.revoke_key(key_id)
            except APIKey.DoesNotExist as e:
                raise CommandError(f"no key {key_id}") from e
            except KeyproofError as e:
                raise CommandError(f"{key_id}: {e.code}: {e}") from e
            self.stdout.write(f"revoked {row.pk} ({row.preview})")
