"""The admin: mint a key (shown once, never again, never its hash), change its
record through core's update, revoke / disable / enable / rotate keys through
core's lifecycle operations, and see what a usage-limited key has left."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from keyproof import KeyproofError, MintedKey
from keyproof.contrib.django import lifecycle
from keyproof.contrib.django.forms import ChangeForm, MintForm
from keyproof.contrib.django.models import APIKey

READ_ONLY = (
    "id", "preview", "fingerprint", "format", "environment", "kind", "status", "created_at",
    "updated_at", "revoked_at", "replaced_by", "rotated_at", "grace_until", "last_used_at", "request_count",
    "usage_left",
)  # fmt: skip


def shown_once(request: HttpRequest, minted: list[MintedKey], title: str) -> HttpResponse:
    """The only page that ever shows these keys (not cached, not stored)."""
    context = {**admin.site.each_context(request), "title": title, "minted": minted}
    response = TemplateResponse(request, "keyproof/key_shown_once.html", context)
    response["Cache-Control"] = "no-store"
    return response


def lifecycle_action(name: str, op: Any, label: str) -> Any:
    def action(modeladmin: APIKeyAdmin, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        done = 0
        for key_id in queryset.values_list("pk", flat=True):
            try:
                op(key_id)
                done += 1
            except KeyproofError as e:
                modeladmin.message_user(request, f"{key_id}: {e.code}: {e}", messages.ERROR)
        modeladmin.message_user(request, f"{label}: {done} key(s).", messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=f"{label} selected keys")(action)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ChangeForm
    list_display = (
        "name",
        "preview",
        "status",
        "format",
        "created_at",
        "expires_at",
        "last_used_at",
        "request_count",
    )
    list_filter = ("status", "format", "environment")
    search_fields = ("name", "preview", "fingerprint", "id")
    readonly_fields = READ_ONLY
    fields = (*READ_ONLY[:3], "name", "scopes", "role", "allowed_ips", "allowed_origins", "expires_at",
              "plan", "rate_limits", "usage_limit", "features", "metadata", "client_id",
              *READ_ONLY[3:])  # fmt: skip
    actions = (
        lifecycle_action("revoke", lifecycle.revoke_key, "Revoke"),
        lifecycle_action("disable", lifecycle.disable_key, "Disable"),
        lifecycle_action("enable", lifecycle.enable_key, "Enable"),
        "rotate",
    )

    @admin.display(description="Usage left")
    def usage_left(self, obj: APIKey) -> str:
        """What the key has left of its usage limit, read from the rate-limit store of
        the verifier the middleware uses (``keyproof.django.get_config()``)."""
        from keyproof.django import get_config  # settings are read at call time

        if obj.pk is None or not obj.usage_limit:
            return "-"
        try:
            left = get_config().verifier.usage(obj.to_record())
        except TypeError:  # an asynchronous store; the admin is synchronous
            return "(asynchronous rate-limit store)"
        if left is None:
            return "-"
        starts = f", starts again in {left.reset_seconds} s" if left.reset_seconds else ""
        return f"{left.remaining} of {left.limit} left ({left.class_}{starts})"

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Mints a key and shows it once (instead of Django's add form)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = MintForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                minted, _ = lifecycle.mint_key(**form.mint_options())
            except KeyproofError as e:
                form.add_error(None, f"{e.code}: {e}")
            else:
                return shown_once(request, [minted], "API key created")
        context = {**self.admin_site.each_context(request), "title": "Create API key", "form": form,
                   "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "keyproof/mint.html", context)

    def save_model(self, request: HttpRequest, obj: APIKey, form: Any, change: bool) -> None:
        """Changes go through core's update (validated in ``ChangeForm.clean``)."""
        if changes := form.changes():
            lifecycle.update_key(obj.pk, changes)

    @admin.action(description="Rotate selected keys (the new keys are shown once)")
    def rotate(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> HttpResponse | None:
        minted = []
        for key_id in queryset.values_list("pk", flat=True):
            try:
                minted.append(lifecycle.rotate_key(key_id)[0])
            except KeyproofError as e:
                self.message_user(request, f"{key_id}: {e.code}: {e}", messages.ERROR)
        return shown_once(request, minted, "API keys rotated") if minted else None
