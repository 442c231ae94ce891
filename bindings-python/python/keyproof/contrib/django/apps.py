"""Django app configuration of ``keyproof.contrib.django`` (app label ``keyproof``)."""

from __future__ import annotations

from django.apps import AppConfig


class KeyproofAppConfig(AppConfig):
    """API keys stored as core key records."""

    name = "keyproof.contrib.django"
    label = "keyproof"
    verbose_name = "API keys"
    default_auto_field = "django.db.models.BigAutoField"
