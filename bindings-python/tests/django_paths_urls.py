"""URLs of the path-contract test (``test_paths``): two handlers under ``/v1/orgs``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from .paths_support import handled


def orgs(request: HttpRequest, org: str) -> JsonResponse:
    return JsonResponse(handled("orgs", request.keyproof))  # type: ignore[attr-defined]


def billing(request: HttpRequest, org: str) -> JsonResponse:
    return JsonResponse(handled("billing", request.keyproof))  # type: ignore[attr-defined]


urlpatterns = [path("v1/orgs/<str:org>", orgs), path("v1/orgs/<str:org>/billing", billing)]
