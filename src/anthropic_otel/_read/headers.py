"""Response headers to span attributes: request id, organization, workspace, rate limits, retry-after.

Pure, like `attributes`: every call reads its final response's headers once, and the rate-limit
diagnostics read those of each retried attempt. Values that do not parse are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, Union

from anthropic_otel._read.attributes import Attributes, AttributeValue

__all__ = ["RATELIMIT_KINDS", "RESPONSE_HEADERS", "header_attributes", "header_pairs", "ratelimit_headroom"]

# Response headers the SDK records on every span.
RESPONSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("anthropic.request.id", "request-id"),
    ("anthropic.organization.id", "anthropic-organization-id"),
    ("anthropic.workspace.id", "anthropic-workspace-id"),
)

_RATELIMIT_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")


def header_pairs(headers: Any) -> Iterable[tuple[Union[str, bytes], Union[str, bytes]]]:
    """(name, value) pairs of an httpx `Headers` (raw bytes, not decoded: `items()` decodes all
    twenty of them per call, and a handful are read) or of a plain mapping."""
    raw = getattr(headers, "raw", None)
    return raw if isinstance(raw, list) else headers.items()


def header_attributes(headers: Iterable[tuple[Union[str, bytes], Union[str, bytes]]]) -> Attributes:
    """Request id, organization, workspace, rate limits and retry-after from response headers.

    `headers` are (name, value) pairs, `str` or raw `bytes` (`header_pairs`), names in any case.
    One pass over them, each name looked up in one table: looking each wanted header up by name
    costs a scan per name.
    """
    attributes: Attributes = {}
    for raw_name, value in headers:
        spec = _HEADER_TABLE.get(raw_name.lower())
        if spec is not None:
            parsed = spec[1](value)
            if parsed is not None:
                attributes[spec[0]] = parsed
    retry_after_ms = attributes.pop(_RETRY_AFTER_MS, None)
    retry_after = attributes.pop(_RETRY_AFTER, None)
    if isinstance(retry_after_ms, float):
        attributes["anthropic.ratelimit.retry_after"] = retry_after_ms / 1000.0
    elif retry_after is not None:
        attributes["anthropic.ratelimit.retry_after"] = retry_after
    return attributes


def _text(value: Union[str, bytes]) -> Optional[str]:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text or None


def _as_int(value: Union[str, bytes, None]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _as_float(value: Union[str, bytes, None]) -> Optional[float]:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


_RETRY_AFTER, _RETRY_AFTER_MS = "retry-after", "retry-after-ms"  # seconds and milliseconds: resolved last
_HEADER_SPECS: dict[str, tuple[str, Callable[[Any], Optional[AttributeValue]]]] = {
    **{header: (key, _text) for key, header in RESPONSE_HEADERS},
    **{
        f"anthropic-ratelimit-{kind}-{part}": (f"anthropic.ratelimit.{kind.replace('-', '_')}.{part}", _as_int)
        for kind in _RATELIMIT_KINDS
        for part in ("limit", "remaining")
    },
    _RETRY_AFTER: (_RETRY_AFTER, _as_float),
    _RETRY_AFTER_MS: (_RETRY_AFTER_MS, _as_float),
}
# Looked up by lower-cased name, `str` or raw `bytes`.
_HEADER_TABLE: dict[Union[str, bytes], tuple[str, Callable[[Any], Optional[AttributeValue]]]] = {
    spelling: spec for name, spec in _HEADER_SPECS.items() for spelling in (name, name.encode("ascii"))
}


# Rate-limit kinds as `anthropic.ratelimit.{kind}.*` attributes name them (the headers use dashes).
RATELIMIT_KINDS = tuple(kind.replace("-", "_") for kind in _RATELIMIT_KINDS)


def ratelimit_headroom(attributes: Mapping[str, object]) -> dict[str, float]:
    """Remaining share (0..1) of each rate limit, from a call's `anthropic.ratelimit.*` attributes."""
    shares: dict[str, float] = {}
    for kind, limit_key, remaining_key in _RATELIMIT_KEYS:
        limit = attributes.get(limit_key)
        remaining = attributes.get(remaining_key)
        if isinstance(limit, int) and isinstance(remaining, int) and limit > 0:
            shares[kind] = min(max(remaining / limit, 0.0), 1.0)
    return shares


_RATELIMIT_KEYS = tuple(
    (kind, f"anthropic.ratelimit.{kind}.limit", f"anthropic.ratelimit.{kind}.remaining") for kind in RATELIMIT_KINDS
)
