"""Flask extension and view decorator.

``auth = KeyproofFlask(engine, lookup)`` then either ``auth.init_app(app)`` (every
request is verified in a ``before_request`` hook) or ``@auth.required`` on single
views. Denials are answered with the decision's exact status, headers and
problem+json body; on success the principal is ``flask.g.keyproof``, the full
decision ``flask.g.keyproof_decision``, and the decision's headers
(``RateLimit-*``, ``Deprecation``/``Sunset``) are added to the view's response.
Flask is synchronous: ``lookup`` (and ``save``) must be plain functions. Core
judges the raw request target (``RAW_URI`` / ``REQUEST_URI``, ``keyproof.wire``): the
route Flask dispatches on.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Callable, TypeVar, cast

from flask import Flask, Request, Response, g, make_response, request

from keyproof._keyproof import Decision, Engine
from keyproof.stores import RateLimitStore
from keyproof.verifier import Lookup, Save, Verifier
from keyproof.wire import peer_ip, wsgi_target

F = TypeVar("F", bound=Callable[..., Any])


def denial_response(decision: Decision) -> Response:
    """The exact HTTP response of a denial."""
    return Response(decision.body or "", decision.status, decision.headers)


def request_path(req: Request) -> str:
    """The decoded request path, mount prefix (``SCRIPT_NAME``) included (what ``exclude`` matches)."""
    return req.root_path + req.path


def request_client_ip(req: Request) -> str | None:
    """The peer IP address, or None. Behind reverse proxies, list them in the policy's
    ``client_ip.trusted_proxies``: core then reads the forwarded client address itself."""
    return peer_ip(req.remote_addr)


class KeyproofFlask:
    """Verifies API keys for a Flask app (``init_app``) or single views (``required``).

    Give an ``Engine`` and a synchronous ``lookup`` (optionally ``save``), or
    ``verifier=``. ``exclude`` lists exact paths (``request_path``) ``init_app``
    serves without a key (health checks …).
    """

    def __init__(
        self,
        engine: Engine | None = None,
        lookup: Lookup | None = None,
        rate_limits: RateLimitStore | None = None,
        *,
        save: Save | None = None,
        verifier: Verifier | None = None,
        app: Flask | None = None,
        client_ip: Callable[[Request], str | None] = request_client_ip,
        usage_cost: Callable[[Request], int | None] | None = None,
        exclude: Iterable[str] = (),
    ) -> None:
        if verifier is None:
            if engine is None or lookup is None:
                raise TypeError("KeyproofFlask needs engine and lookup, or verifier=")
            verifier = Verifier(engine, lookup, save, rate_limits=rate_limits)
        self.verifier = verifier
        self.client_ip = client_ip
        self.usage_cost = usage_cost
        self.exclude = frozenset(exclude)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Verifies every request of ``app`` (except ``exclude``) before its view runs."""
        app.before_request(self._before_request)
        app.after_request(self._add_headers)

    def verify(self) -> Decision:
        """Verifies the current request once (later calls return the same decision)."""
        decision = g.get("keyproof_decision")
        if isinstance(decision, Decision):
            return decision
        cost = self.usage_cost(request) if self.usage_cost else None
        target, client_ip = wsgi_target(request.environ), self.client_ip(request)
        decision = self.verifier.verify(
            request.method, target, request.headers.items(), client_ip, usage_cost=cost
        )
        if decision.allowed:
            g.keyproof = decision.principal
            g.keyproof_decision = decision
        return decision

    def required(self, view: F) -> F:
        """A view decorator: the view runs only for an allowed request."""

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            decision = self.verify()
            if not decision.allowed:
                return denial_response(decision)
            return self._add_headers(make_response(view(*args, **kwargs)))

        return cast(F, wrapper)

    def _before_request(self) -> Response | None:
        if request_path(request) in self.exclude:
            return None
        decision = self.verify()
        return None if decision.allowed else denial_response(decision)

    def _add_headers(self, response: Response) -> Response:
        decision = g.get("keyproof_decision")
        if isinstance(decision, Decision) and not g.get("_keyproof_headers_added"):
            g._keyproof_headers_added = True
            for name, value in decision.headers:
                response.headers.add(name, value)
        return response
