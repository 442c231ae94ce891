"""``manage.py keyproof_rotate ID [--grace-hours H]``: mints the replacement, prints it once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keyproof import KeyproofError
from keyproof.contrib.django import lifecycle
from keyproof.contrib.django.models import APIKey


class Command(BaseCommand):
    help = "Rotates an API key: the old one keeps working for the grace period; prints the new key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id")
        parser.add_argument("--grace-hours", type=int, help="default: the policy's rotation_grace_hours")
        parser.add_argument("--json", action="store_true", help="print {key, id, preview, replaces} as JSON")

    def handle(self, *args: Any, **o: Any) -> None:
        grace = None if o["grace_hours"] is None else timedelta(hours=o["grace_hours"])
        try:
            minted, new, old = lifecycle.rotate_key(o["id"], grace)
        except APIKey.DoesNotExist as e:
            raise CommandError(f"no key {o['id']}") from e
        except KeyproofError as e:
            raise CommandError(f"{o['id']}: {e.code}: {e}") from e
        if o["json"]:
            self.stdout.write(
                json.dumps({"key": minted.key, "id": new.pk, "preview": new.preview, "replaces": old.pk})
            )
        else:
            self.stderr.write(
                f"{old.pk} is replaced by {new.pk} ({new.preview}) until {old.grace_until}; new key:"
            )
            self.stdout.write(minted.key)
