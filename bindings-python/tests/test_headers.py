"""Request headers cross into Rust only when core reads them (the engine's
``ExtractionConfig.reads_header``); every shape a host passes them in (dict,
multi-value mapping, pairs, bytes) decides the same, and a header that is not
``str``/``bytes`` is still a ``TypeError`` wherever it sits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from keyproof import Engine, Verifier

from .conftest import NOW
from .support import READER, engine, lookup

KEY = READER.key
NOISE = [(f"X-Noise-{i}", "v" * 40) for i in range(100)]


class MultiDict(Mapping[str, str]):
    """A framework-style mapping whose ``items()`` repeats names."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __getitem__(self, name: str) -> str:
        return next(v for k, v in self._pairs if k == name)

    def __iter__(self) -> Iterator[str]:
        return iter(k for k, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._pairs)


def decided(headers: object, e: Engine | None = None) -> tuple[int, str | None, list[tuple[str, str]]]:
    d = Verifier(e or engine(), lookup).verify("GET", "/v1/items", headers, now=NOW)  # type: ignore[arg-type]
    return d.status, d.code, d.headers


def test_every_header_shape_decides_the_same() -> None:
    allowed = decided([("Authorization", f"Bearer {KEY}")])
    assert allowed[0] == 200
    assert decided({"authorization": f"Bearer {KEY}", **dict(NOISE)}) == allowed
    assert decided([*NOISE, ("AUTHORIZATION", f"Bearer {KEY}")]) == allowed
    assert decided(MultiDict([*NOISE, ("Authorization", f"Bearer {KEY}")])) == allowed
    assert decided([(b"Authorization", f"Bearer {KEY}".encode()), (b"Host", b"x")]) == allowed


def test_repeated_credential_headers_are_still_seen_through_a_multi_value_mapping() -> None:
    twice = MultiDict([("Authorization", f"Bearer {KEY}"), ("Authorization", f"Bearer {KEY}")])
    status, code, _ = decided(twice)
    assert status == 400 and code is not None


def test_configured_header_names_are_read_in_any_case() -> None:
    e = Engine(
        {
            "formats": ["keyproof_live"],
            "policy": {
                "credentials": {"methods": ["api_key_header"], "api_key_header": "X-Service-Key"},
                "routes": [{"method": "GET", "path": "/v1/items", "all_of": ["items:read"]}],
            },
        }
    )
    assert decided({"x-SERVICE-key": KEY, **dict(NOISE)}, e)[0] == 200
    # Authorization is not read under this config: a bearer key is no credential.
    assert decided({"Authorization": f"Bearer {KEY}"}, e)[1] == "missing_credentials"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}", "X-Count": 3},
        [("Authorization", f"Bearer {KEY}"), ("X-Count", None)],
        [("Authorization", f"Bearer {KEY}"), (3, "x")],
        [("Authorization", f"Bearer {KEY}", "extra")],
    ],
)
def test_a_header_of_the_wrong_type_is_a_type_error_even_when_unread(headers: object) -> None:
    with pytest.raises(TypeError, match="pairs of str or bytes"):
        decided(headers)
