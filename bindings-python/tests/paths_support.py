"""The path-contract deployment: ``GET /v1/orgs/{org}`` needs ``orgs:read``,
``GET /v1/orgs/{org}/billing`` needs ``billing:read``; one key per scope. Handlers
record which of them ran for which key; requests go out as raw bytes on a socket,
so the request target reaches the server exactly as written."""

from __future__ import annotations

import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from keyproof import Engine, KeyRecord, Principal

from .support import minted

ENGINE = Engine(
    {
        "formats": ["keyproof_live"],
        "policy": {
            "realm": "paths.example.test",
            "routes": [
                {"method": "GET", "path": "/v1/orgs/{org}", "all_of": ["orgs:read"]},
                {"method": "GET", "path": "/v1/orgs/{org}/billing", "all_of": ["billing:read"]},
            ],
        },
    }
)
ORGS = minted("Orgs reader", 21, scopes=["orgs:read"])
BILLING = minted("Billing reader", 22, scopes=["billing:read"])
RECORDS: dict[str, KeyRecord] = {m.record.hash: m.record for m in (ORGS, BILLING)}
#: The only key the policy lets each handler serve.
KEY_OF_HANDLER = {"orgs": ORGS, "billing": BILLING}

_lock = threading.Lock()
RAN: list[tuple[str, str]] = []  # (handler, key id), appended by every handler that ran


def lookup(stored_hash: str) -> KeyRecord | None:
    return RECORDS.get(stored_hash)


async def alookup(stored_hash: str) -> KeyRecord | None:
    return RECORDS.get(stored_hash)


def handled(handler: str, principal: Principal) -> dict[str, Any]:
    with _lock:
        RAN.append((handler, principal.key_id))
    return {"handler": handler}


def raw_get(base: str, target: str, key: str) -> tuple[int, bytes]:
    """Sends ``GET <target>`` byte for byte; returns the status (0 if the server hung up) and body."""
    url = urlsplit(base)
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port or 80), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        return 0, b""
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return int(head.split(b" ", 2)[1]), body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2 :]
    return out
