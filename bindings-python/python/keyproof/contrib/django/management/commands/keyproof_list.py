"""``manage.py keyproof_list [--json]``: every key's record, never a key or a hash."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from keyproof.contrib.django.models import APIKey


class Command(BaseCommand):
    help = (
        "Lists API keys (id, name, preview, status, last use, requests); "
        "--json prints the records without hashes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        rows = APIKey.objects.order_by("created_at", "pk")
        if o["json"]:
            shown = [row.to_record().to_dict() for row in rows]
            for data in shown:
                del data["hash"]
            self.stdout.write(json.dumps(shown, indent=2))
            return
        for row in rows:
            record = row.to_record()
            last = record.last_used_at.isoformat() if record.last_used_at else "never"
            used = f"last used {last}  requests {record.request_count}"
            self.stdout.write(f"{row.pk}  {row.preview}  {row.status:8}  {row.name}  {used}")
