"""Real HTTP servers on 127.0.0.1 (free ports) in background threads: uvicorn (ASGI),
werkzeug or wsgiref (WSGI); and response assertions."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from keyproof import Decision, Verifier


@contextmanager
def serve(app: Any, *, proxy_headers: bool = True) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # proxy_headers=False: the app sees the socket's peer, not uvicorn's reading of X-Forwarded-For.
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, proxy_headers=proxy_headers
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_wsgi(app: Any, *, server: str = "werkzeug") -> Iterator[str]:
    """Serves a WSGI app on 127.0.0.1 with werkzeug (threaded) or wsgiref in a background thread."""
    httpd: Any
    if server == "werkzeug":
        from werkzeug.serving import make_server

        httpd = make_server("127.0.0.1", 0, app, threaded=True)
    else:
        from wsgiref.simple_server import WSGIRequestHandler
        from wsgiref.simple_server import make_server as make_wsgiref_server

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = make_wsgiref_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def assert_exact(response: httpx.Response, decision: Decision) -> None:
    """The response is the decision: same status, every decision header with the same value, same body."""
    assert response.status_code == decision.status
    for name, value in decision.headers:
        assert response.headers.get_list(name) == [value], name
    assert response.content == (decision.body or "").encode("utf-8")


class RecordingVerifier(Verifier):
    """A verifier that keeps every decision it made (one verification per call)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decisions: list[Decision] = []

    def verify(self, *args: Any, **kwargs: Any) -> Decision:
        decision = super().verify(*args, **kwargs)
        self.decisions.append(decision)
        return decision

    async def averify(self, *args: Any, **kwargs: Any) -> Decision:
        decision = await super().averify(*args, **kwargs)
        self.decisions.append(decision)
        return decision
