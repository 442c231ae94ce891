"""``manage.py keyproof_mint --name NAME [--scopes a:read b:write] …``: prints the key once."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keyproof import KeyproofError
from keyproof.contrib.django import lifecycle
from keyproof.contrib.django.models import APIKey


class Command(BaseCommand):
    help = "Mints an API key, stores its record and prints the key (the only time it is shown)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--format", help="format id (default: KEYPROOF_MINT_FORMAT or the engine config's first)"
        )
        parser.add_argument("--scopes", nargs="*", default=[])
        parser.add_argument("--role")
        parser.add_argument("--expires-in", help="15d, 90d, 6m, 1y …")
        parser.add_argument("--plan")
        parser.add_argument(
            "--rate-limits",
            help='the key\'s own quotas by class, JSON: \'{"default": {"limit": 100, "burst": 20}}\'',
        )
        parser.add_argument(
            "--usage-limit",
            help='units per day, per month or in all, JSON: \'{"limit": 1000, "period": "month"}\'',
        )
        parser.add_argument("--allowed-ips", nargs="*", default=[])
        parser.add_argument(
            "--allowed-origins", nargs="*", default=[], help="websites a browser may use the key from"
        )
        parser.add_argument("--features", nargs="*", default=[])
        parser.add_argument("--owner", help="primary key of the owner (KEYPROOF_OWNER_MODEL)")
        parser.add_argument("--client-id", help="an existing public client id to bind (seed 004)")
        parser.add_argument(
            "--generate-client-id",
            action="store_true",
            help="generate a client id: client id + secret (seed 002)",
        )
        parser.add_argument("--json", action="store_true", help="print {key, id, preview, client_id} as JSON")

    def handle(self, *args: Any, **o: Any) -> None:
        owner = None
        if o["owner"] is not None:
            owner = APIKey._meta.get_field("owner").related_model._default_manager.get(pk=o["owner"])  # type: ignore[union-attr]
        fields = (
            "scopes",
            "role",
            "expires_in",
            "plan",
            "allowed_ips",
            "allowed_origins",
            "features",
            "client_id",
            "generate_client_id",
        )
        options = {k: o[k] for k in fields if o[k]}
        for field in ("rate_limits", "usage_limit"):
            if o[field]:
                try:
                    options[field] = json.loads(o[field])
                except ValueError as e:
                    flag = "--" + field.replace("_", "-")
                    raise CommandError(f"{flag} is not JSON: {e}") from e
        try:
            minted, row = lifecycle.mint_key(owned_by=owner, format=o["format"], name=o["name"], **options)
        except KeyproofError as e:
            raise CommandError(f"{e.code}: {e}") from e
        if o["json"]:
            shown = {"key": minted.key, "id": row.pk, "preview": row.preview, "client_id": row.client_id}
            self.stdout.write(json.dumps(shown))
        else:
            client = f", client id {row.client_id}" if row.client_id else ""
            self.stderr.write(f"minted {row.pk} ({row.preview}{client}); the key is shown once:")
            self.stdout.write(minted.key)
