"""The token endpoint (OAuth 2.0 client credentials, RFC 6749 §4.4) for any framework.

``endpoint = TokenEndpoint(engine, lookup)``, then in the ``POST /oauth/token``
handler ``response = endpoint.exchange(method, headers, body, client_ip)`` (or
``await endpoint.aexchange(...)``) and answer with ``response.status``,
``response.headers`` and ``response.body`` as they are. ``lookup(hash)`` is the
same lookup a ``Verifier`` uses (sync or async). Core parses the request,
checks the key's record, issues the access token and renders the RFC 6749 answer;
this module only answers the lookup step.

Access tokens presented later to a ``Verifier`` go through the engine's usual
step. Under ``tokens.confirm_record`` (the default) that step looks the key's
record up by **key id**: ``lookup`` then receives a record id (no ``:``) rather
than a storage hash (``algorithm:hex``).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any, Union

from keyproof._keyproof import Engine, TokenExchange, TokenResponse
from keyproof.verifier import Headers, Lookup

#: A request body as the framework hands it over.
Body = Union[str, bytes]


def _text(body: Body) -> str:
    return body.decode("latin-1") if isinstance(body, bytes) else body


class TokenEndpoint:
    """Answers token requests with one shared ``Engine`` (which has a ``tokens`` section)."""

    def __init__(self, engine: Engine, lookup: Lookup) -> None:
        self.engine = engine
        self.lookup = lookup

    def exchange(
        self,
        method: str,
        headers: Headers,
        body: Body,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
        random: bytes | None = None,
    ) -> TokenResponse:
        """Answers a token request; ``lookup`` must be synchronous."""
        steps = self._steps(self.engine.begin_token(method, headers, _text(body), client_ip, now, random))
        answer: Any = None
        try:
            while not hasattr(type(answer := steps.send(answer)), "__await__"):
                pass
        except StopIteration as done:
            response: TokenResponse = done.value
            return response
        close = getattr(answer, "close", None)
        if callable(close):
            close()  # a coroutine never awaited: no RuntimeWarning
        steps.close()
        raise TypeError("keyproof: the lookup is asynchronous: use aexchange()")

    async def aexchange(
        self,
        method: str,
        headers: Headers,
        body: Body,
        client_ip: str | None = None,
        *,
        now: datetime | None = None,
        random: bytes | None = None,
    ) -> TokenResponse:
        """Answers a token request; ``lookup`` may be sync or async."""
        steps = self._steps(self.engine.begin_token(method, headers, _text(body), client_ip, now, random))
        answer: Any = None
        try:
            while True:
                answer = steps.send(await answer if hasattr(type(answer), "__await__") else answer)
        except StopIteration as done:
            response: TokenResponse = done.value
            return response

    def _steps(self, x: TokenExchange) -> Generator[Any, Any, TokenResponse]:
        while (step := x.next_step())[0] == "lookup":
            assert step[1] is not None
            x.record((yield self.lookup(step[1])))
        return x.finish()
