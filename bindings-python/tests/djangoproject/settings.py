"""Settings of the test project: the database comes from ``KEYPROOF_TEST_DATABASE``
(an SQLite file path, or a ``postgresql://`` DSN)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit


def database(url: str) -> dict[str, Any]:
    if not url.startswith("postgresql://"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url}
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


SECRET_KEY = "keyproof-test-project"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
ROOT_URLCONF = "tests.djangoproject.urls"
DATABASES = {"default": database(os.environ.get("KEYPROOF_TEST_DATABASE", ":memory:"))}
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "keyproof.contrib.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
KEYPROOF_ENGINE: dict[str, Any] = {
    "formats": ["keyproof_live"],
    "policy": {
        "routes": [{"method": "GET", "path": "/api/briefs", "all_of": ["briefs:read"]}],
        "plans": {"starter": {"limit": 600, "burst": 100}},
        "default_plan": "starter",
        "last_used_interval_seconds": 0,
    },
}
# KEYPROOF_TEST_RECORD_CACHE=<seconds>: the engine keeps looked-up records that long.
if ttl := os.environ.get("KEYPROOF_TEST_RECORD_CACHE"):
    KEYPROOF_ENGINE["record_cache"] = {"ttl_seconds": int(ttl)}
    # Each committed change is announced (here: appended to a file the test reads).
    KEYPROOF_KEY_CHANGED = "tests.djangoproject.announce.changed"
# Seed 001's dashboard: each allowed request adds one to the key's request_count.
KEYPROOF_COUNT_REQUESTS = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["keyproof.django.KeyproofAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "keyproof.django.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
