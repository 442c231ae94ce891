"""Django middleware and, with djangorestframework installed, DRF authentication.

Settings: ``KEYPROOF_ENGINE`` (an ``Engine``, its config dict, or a dotted path),
``KEYPROOF_LOOKUP`` (synchronous) and optionally ``KEYPROOF_SAVE``, ``KEYPROOF_TOUCH``,
``KEYPROOF_RATE_LIMITS`` (or, instead of these, a ready ``KEYPROOF_VERIFIER``). With the
``keyproof.contrib.django`` app installed, lookup, save and touch default to its
``APIKey`` table. ``KEYPROOF_COUNT_REQUESTS``: ``True`` counts each allowed request in
that table's ``request_count`` (an UPDATE per request), or a ``count(key_id)``
function. ``KEYPROOF_CLIENT_IP`` (``request -> str | None``) and
``KEYPROOF_USAGE_COST`` (``request -> int | None``: what the request spends of a
usage-limited key's allowance; None, its route's cost), each an object or a dotted
path, and ``KEYPROOF_EXCLUDE`` (paths the middleware lets through). Core judges the raw
request target (``RAW_URI`` / ``REQUEST_URI``, or the ASGI ``raw_path``; see
``keyproof.wire``): the route Django dispatches on.
Denials are answered with the decision's exact status, headers and body; on success
``request.keyproof`` is the principal, ``request.keyproof_decision`` the decision.
With DRF's ``KeyproofAuthentication`` and no ``KeyproofMiddleware``, add
``keyproof.django.KeyproofHeadersMiddleware`` so allowed responses carry the
decision's ``RateLimit-*`` headers too. DRF renders exceptions itself: ``REST_FRAMEWORK["EXCEPTION_HANDLER"] =
"keyproof.django.exception_handler"`` keeps the core's exact body (without it only the
status, ``WWW-Authenticate`` and ``Retry-After`` are kept).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Callable, NamedTuple

from django import conf  # conf.settings, read lazily (no module-level LazySettings)
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.module_loading import import_string

from keyproof._keyproof import Decision, Engine, Principal
from keyproof.verifier import Verifier
from keyproof.wire import asgi_target, peer_ip, wsgi_target

try:
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request

    HAS_DRF = True
except ImportError:  # djangorestframework is optional
    HAS_DRF = False


def request_client_ip(request: HttpRequest) -> str | None:
    """The peer IP address, or None. Behind reverse proxies, list them in the policy's
    ``client_ip.trusted_proxies``: core then reads the forwarded client address itself."""
    return peer_ip(request.META.get("REMOTE_ADDR"))


def request_target(request: HttpRequest) -> str:
    """The raw request target: the ASGI ``raw_path``, ``RAW_URI`` / ``REQUEST_URI``, or
    ``SCRIPT_NAME + PATH_INFO`` encoded again (``keyproof.wire``)."""
    scope = getattr(request, "scope", None)
    return asgi_target(scope) if isinstance(scope, dict) else wsgi_target(request.META)


class KeyproofConfig(NamedTuple):
    verifier: Verifier
    client_ip: Callable[[HttpRequest], str | None]
    exclude: frozenset[str]
    usage_cost: Callable[[HttpRequest], int | None] | None = None


def _setting(name: str, default: Any = None) -> Any:
    value = getattr(conf.settings, name, default)
    return import_string(value) if isinstance(value, str) else value


_cache: dict[str, KeyproofConfig] = {}
_engine: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine() -> Engine:
    """The engine of ``KEYPROOF_VERIFIER``, else ``KEYPROOF_ENGINE`` (built once)."""
    if isinstance(verifier := _setting("KEYPROOF_VERIFIER"), Verifier):
        return verifier.engine
    if "engine" not in _engine:
        engine = _setting("KEYPROOF_ENGINE")
        if isinstance(engine, Mapping):
            engine = Engine(engine)
        if not isinstance(engine, Engine):
            raise ImproperlyConfigured("KEYPROOF_ENGINE must be an Engine or its config (a dict)")
        _engine["engine"] = engine
    return _engine["engine"]


def get_config() -> KeyproofConfig:
    """The configuration from settings, built once (again after a ``KEYPROOF_*`` change)."""
    with _lock:
        if not _cache:
            verifier = _setting("KEYPROOF_VERIFIER")
            if not isinstance(verifier, Verifier):
                engine, lookup = get_engine(), _setting("KEYPROOF_LOOKUP")
                save, touch = _setting("KEYPROOF_SAVE"), _setting("KEYPROOF_TOUCH")
                if lookup is None and apps.is_installed("keyproof.contrib.django"):
                    from keyproof.contrib.django import store as table

                    lookup, save, touch = table.lookup, save or table.save, touch or table.touch
                if not callable(lookup):
                    raise ImproperlyConfigured("KEYPROOF_LOOKUP must be a function")
                store = _setting("KEYPROOF_RATE_LIMITS")
                on_decision = _setting("KEYPROOF_ON_DECISION")
                verifier = Verifier(
                    engine,
                    lookup,
                    save,
                    rate_limits=store,
                    touch=touch,
                    count=_counter(),
                    on_decision=on_decision,
                )
            client_ip, exclude = _setting("KEYPROOF_CLIENT_IP"), _setting("KEYPROOF_EXCLUDE", ())
            cost = _setting("KEYPROOF_USAGE_COST")
            _cache["config"] = KeyproofConfig(
                verifier, client_ip or request_client_ip, frozenset(exclude), cost
            )
        return _cache["config"]


def _counter() -> Callable[[str], Any] | None:
    """``KEYPROOF_COUNT_REQUESTS``: a function, ``True`` for the app's table, else None."""
    count = _setting("KEYPROOF_COUNT_REQUESTS", False)
    if count is True:
        if not apps.is_installed("keyproof.contrib.django"):
            raise ImproperlyConfigured("KEYPROOF_COUNT_REQUESTS = True needs the keyproof.contrib.django app")
        from keyproof.contrib.django import store as table

        return table.count
    if count is False or count is None:
        return None
    if not callable(count):
        raise ImproperlyConfigured("KEYPROOF_COUNT_REQUESTS must be True, False or a function")
    return count  # type: ignore[no-any-return]


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("KEYPROOF_"):
        _cache.clear()
        _engine.clear()


setting_changed.connect(_settings_changed)


def verify(request: HttpRequest) -> Decision:
    """Verifies ``request`` once (later calls return the same decision)."""
    decision = getattr(request, "keyproof_decision", None)
    if isinstance(decision, Decision):
        return decision
    config, method, target = get_config(), request.method or "GET", request_target(request)
    cost = config.usage_cost(request) if config.usage_cost else None
    headers, client_ip = request.headers.items(), config.client_ip(request)
    decision = config.verifier.verify(method, target, headers, client_ip, usage_cost=cost)
    request.keyproof = decision.principal  # type: ignore[attr-defined]
    request.keyproof_decision = decision  # type: ignore[attr-defined]
    return decision


def denial_response(decision: Decision) -> HttpResponse:
    """The exact HTTP response of a denial."""
    # Django keeps one value per header name: repeated fields (a usage-limited key's
    # second RateLimit-Policy / RateLimit) are joined, as HTTP allows for lists.
    return HttpResponse(decision.body or "", status=decision.status, headers=decision.combined_headers)


def add_decision_headers(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """``response`` with the headers (``RateLimit-*`` …) of the decision made for
    ``request``, if one was made (by the middleware, ``KeyproofAuthentication`` or ``verify``)."""
    decision = getattr(request, "keyproof_decision", None)
    if isinstance(decision, Decision):
        for name, value in decision.combined_headers:
            response.headers[name] = value
    return response


class KeyproofMiddleware:
    """Verifies every request but ``KEYPROOF_EXCLUDE``d paths; adds the decision's
    headers (``RateLimit-*`` …) to responses, on excluded paths too when a view
    verified the request itself (DRF's ``KeyproofAuthentication``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        get_config()  # bad settings fail at startup

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path not in get_config().exclude and not (decision := verify(request)).allowed:
            return denial_response(decision)
        return add_decision_headers(request, self.get_response(request))


class KeyproofHeadersMiddleware:
    """Verifies nothing: adds the headers of a decision a view made (DRF's
    ``KeyproofAuthentication``) to its response, so a DRF-only setup answers
    allowed requests with ``RateLimit-*`` too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return add_decision_headers(request, self.get_response(request))


if HAS_DRF:

    class KeyproofDenied(APIException):
        """A denial raised by ``KeyproofAuthentication``; ``.decision`` holds it."""

        def __init__(self, decision: Decision) -> None:
            super().__init__(detail=decision.public_code, code=decision.public_code)
            self.decision, self.status_code = decision, decision.status
            self.auth_header = decision.header("www-authenticate")
            self.wait = int(decision.header("retry-after") or 0) or None

    class KeyproofAuthentication(BaseAuthentication):
        """``(principal, decision)`` or ``KeyproofDenied``; fails closed (no key: denied).

        ``request.user`` is a ``Principal``, not a Django user (no ``is_authenticated``):
        the core already authorized the route, so keep DRF permissions at ``AllowAny``."""

        def authenticate(self, request: Request) -> tuple[Principal, Decision]:
            decision = verify(request._request)
            if not decision.allowed or decision.principal is None:
                raise KeyproofDenied(decision)
            return decision.principal, decision

        def authenticate_header(self, request: Request) -> str | None:
            decision = getattr(request._request, "keyproof_decision", None)
            if not isinstance(decision, Decision) or decision.allowed:
                engine = get_config().verifier.engine
                method, target = request.method or "GET", request_target(request._request)
                decision = engine.decide(engine.prepare(method, target, []), None)
            return decision.header("www-authenticate")

    def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponseBase | None:
        """DRF's handler, except that keyproof denials keep the core's exact response."""
        if isinstance(exc, KeyproofDenied):
            return denial_response(exc.decision)
        from rest_framework import views  # needs configured settings: imported late

        return views.exception_handler(exc, context)
