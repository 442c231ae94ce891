"""The admin and one DRF view protected by keyproof."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Briefs(APIView):
    def get(self, request: Request) -> Response:
        principal: Any = request.user
        return Response({"key": principal.key_id, "scopes": principal.scopes})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/briefs", Briefs.as_view()),
]
