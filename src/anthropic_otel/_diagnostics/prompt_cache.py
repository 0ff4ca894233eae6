"""`cache_prefix_changed` and `cache_not_written`: prompt caching that saves nothing.

A cache entry is keyed by the exact prompt prefix up to a `cache_control` breakpoint (tools, then
system, then messages). Two mistakes make every call pay for a write and never read one back:
something variable (a timestamp, a request id) sits before the breakpoint, so each call writes a
new prefix; or the prefix is below the model's minimum cacheable length, so nothing is written
at all. The first shows as a call that writes and reads nothing although the same route and model
wrote a *different* prefix within the cache's TTL; the second as breakpoints with neither a write
nor a read.

Only 8-byte hashes of each prefix are kept (no prompt text), per route and model in a bounded
LRU, each with the expiry of its breakpoint's TTL (`5m` by default, or `1h`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from anthropic_otel._diagnostics.findings import CODES, Finding
from anthropic_otel._diagnostics.state import BoundedLRU, canonical, digest
from anthropic_otel._read.attributes import int_field

__all__ = ["CacheWatch", "Prefix", "has_breakpoints", "prompt_prefix"]

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
_KEYS = 256  # (route, model) pairs remembered
_HASHES_PER_KEY = 16  # live prefixes remembered per pair


@dataclass(frozen=True)
class Prefix:
    """Hashes of a request's prompt: at the end of tools and system, and at each breakpoint with its TTL."""

    tools: bytes
    system: bytes
    breakpoints: tuple[tuple[bytes, float], ...]


def _without_control(block: Any) -> tuple[Any, Optional[float]]:
    """The block as hashed (its `cache_control` left out), and the TTL if it is a breakpoint."""
    if not isinstance(block, dict) or "cache_control" not in block:
        return block, None
    control = block["cache_control"]
    if not isinstance(control, dict):
        return block, None
    ttl = TTL_SECONDS.get(str(control.get("ttl", "5m")), TTL_SECONDS["5m"])
    return {key: value for key, value in block.items() if key != "cache_control"}, ttl


def has_breakpoints(request: dict[str, Any]) -> bool:
    """Whether any block of the request carries `cache_control`: key lookups only, no serialising."""
    if "cache_control" in request:
        return True
    for section in ("tools", "system", "messages"):
        value = request.get(section)
        if not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, dict):
                continue
            if "cache_control" in item:
                return True
            content = item.get("content")
            if isinstance(content, list) and any(isinstance(b, dict) and "cache_control" in b for b in content):
                return True
    return False


def prompt_prefix(request: Any) -> Optional[Prefix]:
    """The prefix hashes of a request with `cache_control` breakpoints; None without any.

    Requests without breakpoints (most) are recognised by key lookups, before anything is hashed.
    """
    if not isinstance(request, dict) or not has_breakpoints(request):
        return None
    running = digest()
    breakpoints: list[tuple[bytes, float]] = []
    marks: dict[str, bytes] = {}

    def add(item: Any) -> None:
        nonlocal running
        plain, ttl = _without_control(item)
        running = digest(running, canonical(plain))
        if ttl is not None:
            breakpoints.append((running, ttl))

    for section in ("tools", "system", "messages"):
        value = request.get(section)
        if isinstance(value, list):
            for item in value:
                content = item.get("content") if isinstance(item, dict) else None
                if section == "messages" and isinstance(content, list):
                    running = digest(running, canonical(item.get("role")))
                    for block in content:
                        add(block)
                else:
                    add(item)
        elif value is not None:
            add(value)
        marks[section] = running
    control = request.get("cache_control")  # automatic caching: one breakpoint at the end
    if isinstance(control, dict):
        breakpoints.append((running, TTL_SECONDS.get(str(control.get("ttl", "5m")), TTL_SECONDS["5m"])))
    if not breakpoints:
        return None
    return Prefix(marks["tools"], marks["system"], tuple(breakpoints))


@dataclass
class _Written:
    """What one route and model wrote last: section hashes, and live prefix hashes with their expiry."""

    tools: bytes
    system: bytes
    expiry: dict[bytes, float] = field(default_factory=dict)


class CacheWatch:
    """The cache writes of recent calls, by route and model, for comparing the next call with."""

    __slots__ = ("_clock", "_lock", "_written")

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._written: BoundedLRU[tuple[str, str], _Written] = BoundedLRU(_KEYS)

    def observe(
        self, key: tuple[str, str], prefix: Prefix, usage: Any, *, prefix_changed: bool, not_written: bool
    ) -> list[Finding]:
        """Compare a call's cache usage with what its route and model wrote before, then remember it."""
        created = int_field(usage, "cache_creation_input_tokens") or 0
        read = int_field(usage, "cache_read_input_tokens") or 0
        findings: list[Finding] = []
        if created == 0 and read == 0:
            if not_written:
                findings.append(_not_written(prefix, usage))
            return findings
        now = self._clock()
        with self._lock:
            before = self._written.get(key)
            if prefix_changed and created > 0 and read == 0 and before is not None:
                live = {hashed for hashed, expiry in before.expiry.items() if expiry > now}
                if live and not any(hashed in live for hashed, _ in prefix.breakpoints):
                    findings.append(_prefix_changed(prefix, before, created))
            self._remember(key, prefix, before, now)
        return findings

    def _remember(self, key: tuple[str, str], prefix: Prefix, before: Optional[_Written], now: float) -> None:
        written = _Written(prefix.tools, prefix.system)
        if before is not None:
            written.expiry = {hashed: expiry for hashed, expiry in before.expiry.items() if expiry > now}
        for hashed, ttl in prefix.breakpoints:
            written.expiry[hashed] = max(written.expiry.get(hashed, 0.0), now + ttl)
        while len(written.expiry) > _HASHES_PER_KEY:
            del written.expiry[min(written.expiry, key=written.expiry.__getitem__)]
        self._written.put(key, written)


def _prefix_changed(prefix: Prefix, before: _Written, created: int) -> Finding:
    if prefix.tools != before.tools:
        part = "tools"
    elif prefix.system != before.system:
        part = "system prompt"
    else:
        part = "messages"
    return Finding(
        "cache_prefix_changed",
        f"this call wrote {created} cache tokens and read none: the {part} before its breakpoint changed since "
        f"this route and model cached a prefix within its TTL; {CODES['cache_prefix_changed'].fix}",
        {"anthropic.diagnostic.changed": part, "gen_ai.usage.cache_creation.input_tokens": created},
    )


def _not_written(prefix: Prefix, usage: Any) -> Finding:
    count = len(prefix.breakpoints)
    attributes: dict[str, Any] = {"anthropic.diagnostic.breakpoints": count}
    uncached = int_field(usage, "input_tokens")
    if uncached is not None:
        attributes["gen_ai.usage.input_tokens"] = uncached
    return Finding(
        "cache_not_written",
        f"{count} cache_control breakpoint(s) but no cache written or read "
        f"({uncached} input tokens); {CODES['cache_not_written'].fix}",
        attributes,
    )
