"""The request as it came over the wire, for the framework integrations.

Core judges the **raw request target** (percent-encoded, as the client sent
it) and decodes it once itself, refusing encoded ``/ ? # \\`` NUL and dots
(``invalid_path``), so the route it authorizes is the route a framework
dispatches on. These helpers find that target in what each server hands over:

- ASGI (Starlette, FastAPI, Django under ASGI): ``scope["raw_path"]``. The server
  has already split the query off it, so a ``?`` or ``#`` still in it is part of
  the path the app routes on and is passed on encoded. Without ``raw_path``, the
  decoded ``root_path + path`` is percent-encoded again.
- WSGI (Flask, Django): ``RAW_URI`` (gunicorn, werkzeug) or ``REQUEST_URI``
  (werkzeug, uWSGI, mod_wsgi); else ``SCRIPT_NAME + PATH_INFO`` encoded again.

Re-encoding a decoded path keeps what the framework routes on: a ``%3F`` the
server decoded to ``?`` is sent to core as ``%3F`` again and refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


def asgi_target(scope: Mapping[str, Any]) -> str:
    """The raw request path of an ASGI scope (see the module documentation)."""
    raw = scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)) and raw:
        return bytes(raw).decode("latin-1").replace("#", "%23").replace("?", "%3F")
    path, root = str(scope.get("path") or ""), str(scope.get("root_path") or "")
    if root and not path.startswith(root):
        path = root + path
    return quote(path, safe="/", errors="backslashreplace") or "/"


def wsgi_target(environ: Mapping[str, Any]) -> str:
    """The raw request target of a WSGI environ (see the module documentation)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw
    path = str(environ.get("SCRIPT_NAME") or "") + str(environ.get("PATH_INFO") or "")
    # WSGI strings carry the bytes as Latin-1.
    return quote(path.encode("latin-1", "backslashreplace"), safe="/") or "/"


#: Peer addresses already classified (bounded: a server sees few distinct peers).
_PEERS: dict[str, str | None] = {}


def peer_ip(host: str | None) -> str | None:
    """``host`` when it is an IP address (an IPv6 zone dropped), else ``None``.

    A Unix socket or a test client ("testclient") has no IP address: core then
    judges the request without one (an IP allowlist refuses it).
    """
    if not host:
        return None
    if host in _PEERS:
        return _PEERS[host]
    address = host.split("%", 1)[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        found = None
    else:
        found = address
    if len(_PEERS) < 4096:
        _PEERS[host] = found
    return found
