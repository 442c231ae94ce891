"""Views and URLs of the Django test project (imported by Django once settings exist).

Plain views sit behind ``KeyproofMiddleware``; ``/drf/*`` is excluded from the
middleware and authenticated by ``KeyproofAuthentication`` alone; ``/v1/limited``
goes through both (verified once).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from keyproof import Principal
from keyproof.django import KeyproofAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_default_handler


def principal_json(principal: Principal) -> dict[str, Any]:
    return {"key_id": principal.key_id, "name": principal.name, "scopes": principal.scopes}


def user(request: Request) -> Principal:
    principal: Any = request.user  # KeyproofAuthentication's user is a Principal
    assert isinstance(principal, Principal)
    return principal


def items(request: HttpRequest) -> JsonResponse:
    return JsonResponse(principal_json(request.keyproof))  # type: ignore[attr-defined]


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": not hasattr(request, "keyproof")})


class DrfItems(APIView):
    authentication_classes = (KeyproofAuthentication,)

    def get(self, request: Request) -> Response:
        decision: Any = request.auth
        assert decision.principal == user(request)
        return Response(principal_json(user(request)))

    def post(self, request: Request) -> Response:
        return Response({"created_by": user(request).key_id})


class DrfFallback(APIView):
    """Without keyproof's exception handler DRF renders its own body."""

    def get_exception_handler(self) -> Any:
        return drf_default_handler

    def get(self, request: Request) -> Response:
        return Response(principal_json(user(request)))


def view(cls: type[APIView]) -> Any:
    return cls.as_view()


urlpatterns = [
    path("v1/items", items),
    path("v1/limited", view(DrfItems)),
    path("health", health),
    path("drf/items", view(DrfItems)),
    path("drf/limited", view(DrfItems)),
    path("drf/fallback", view(DrfFallback)),
]
