"""Admin forms: minting a key, and changing a key's record through core's update."""

from __future__ import annotations

from typing import Any

from django import forms

from keyproof import EXPIRY_PRESETS, KeyproofError
from keyproof.contrib.django.models import APIKey

#: Record fields core's ``RecordUpdate`` may change (the rest is read-only in the admin).
UPDATABLE = (
    "name", "scopes", "role", "allowed_ips", "allowed_origins", "expires_at", "plan", "rate_limits",
    "usage_limit", "features", "metadata", "client_id",
)  # fmt: skip


def words(text: str) -> list[str]:
    """``"a:read, b:write c"`` → ``["a:read", "b:write", "c"]``."""
    return text.replace(",", " ").split()


class MintForm(forms.Form):
    """What a new key gets; core validates every field when it mints."""

    name = forms.CharField(max_length=1000)
    scopes = forms.CharField(required=False, help_text="Separated by spaces or commas, e.g. briefs:read")
    role = forms.CharField(required=False)
    expires_in = forms.ChoiceField(
        required=False, choices=[("", "never"), *((p, p) for p in EXPIRY_PRESETS)], initial=""
    )
    plan = forms.CharField(required=False)
    allowed_ips = forms.CharField(required=False, help_text="CIDR ranges or addresses, separated by spaces")
    allowed_origins = forms.CharField(
        required=False, help_text="Websites a browser may use the key from, e.g. https://app.example.com"
    )
    features = forms.CharField(required=False)
    client_id = forms.CharField(required=False, help_text="An existing public client id to bind (seed 004)")
    generate_client_id = forms.BooleanField(
        required=False, help_text="Generate a public client id: a client id + secret pair (seed 002)"
    )

    def mint_options(self) -> dict[str, Any]:
        """The ``keyproof.mint`` options of the cleaned form."""
        data = self.cleaned_data
        options: dict[str, Any] = {"name": data["name"]}
        for field in ("scopes", "allowed_ips", "allowed_origins", "features"):
            if values := words(data[field]):
                options[field] = values
        for field in ("role", "expires_in", "plan", "client_id", "generate_client_id"):
            if data[field]:
                options[field] = data[field]
        return options


class ChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    """Edits the updatable fields; core checks the whole change before anything is saved."""

    class Meta:
        model = APIKey
        fields = UPDATABLE

    def changes(self) -> dict[str, Any]:
        """The ``RecordUpdate`` of the edited fields (empty optional fields clear them,
        an empty map field empties it)."""
        empty: dict[str, Any] = {"role": None, "plan": None, "expires_at": None, "client_id": None}
        empty["usage_limit"] = None
        empty.update(rate_limits={}, metadata={})
        return {
            f: self.cleaned_data[f] or empty[f] if f in empty else self.cleaned_data[f]
            for f in self.changed_data
            if f in UPDATABLE
        }

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.instance.pk and not self.errors:
            stored = APIKey.objects.get(pk=self.instance.pk).to_record()
            try:
                stored.updated(self.changes())
            except KeyproofError as e:
                raise forms.ValidationError(f"{e.code}: {e}") from e
        return cleaned
