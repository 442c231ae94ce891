"""Django app configuration of ``keyproof.contrib.django`` (app label ``keyproof``)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete


def _forget_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deleted key leaves the engine's record cache once the deletion commits."""
    from keyproof.contrib.django.lifecycle import forget_cached

    forget_cached(instance.pk)


class KeyproofAppConfig(AppConfig):
    """API keys stored as core key records."""

    name = "keyproof.contrib.django"
    label = "keyproof"
    verbose_name = "API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_delete.connect(
            _forget_deleted, sender=self.get_model("APIKey"), dispatch_uid="keyproof-forget-deleted"
        )
