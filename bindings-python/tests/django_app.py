"""A minimal Django + DRF project: settings (configured on import) and the WSGI app.

The views and URLs are in ``django_urls`` (DRF's views module needs settings first).
"""

from __future__ import annotations

import copy
from typing import Any

import django
from django.conf import settings
from keyproof import Engine, MemoryRateLimitStore

from .http_support import RecordingVerifier
from .support import CONFIG, lookup

DRF_ROUTES: list[dict[str, Any]] = [
    {"method": "GET", "path": "/drf/items", "all_of": ["items:read"]},
    {"method": "POST", "path": "/drf/items", "all_of": ["items:write"]},
    {"method": "GET", "path": "/drf/limited", "all_of": ["items:read"], "rate_limit": {"class": "tight"}},
    {"method": "GET", "path": "/drf/fallback", "all_of": ["items:read"]},
]


def django_config() -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    config["policy"]["routes"] += DRF_ROUTES
    return config


ENGINE = Engine(django_config())
STORE = MemoryRateLimitStore()
VERIFIER = RecordingVerifier(ENGINE, lookup, rate_limits=STORE)

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="keyproof-tests",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF="tests.django_urls",
        INSTALLED_APPS=[],
        MIDDLEWARE=["keyproof.django.KeyproofMiddleware"],
        KEYPROOF_VERIFIER=f"{__name__}.VERIFIER",  # a dotted path (or the object itself) …
        KEYPROOF_ENGINE=f"{__name__}.ENGINE",  # … or engine, lookup and store
        KEYPROOF_LOOKUP=lookup,
        KEYPROOF_RATE_LIMITS=STORE,
        KEYPROOF_EXCLUDE=["/health", "/drf/items", "/drf/limited", "/drf/fallback"],
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["keyproof.django.KeyproofAuthentication"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "EXCEPTION_HANDLER": "keyproof.django.exception_handler",
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()


def application() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()
