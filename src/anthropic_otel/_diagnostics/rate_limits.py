"""`rate_limited`: 429 and 529 answers, with what the next attempt should have done.

The SDK retries a 429 inside one call (up to `max_retries`), so the call the application sees
may succeed while its attempts were throttled. `hooks` reports each response the SDK decides to
retry (`note_retry`) and each new attempt (`note_attempt`), so a call's rate-limited attempts are
all seen, with how long the retry waited against the `retry-after` the server asked for. A call
sent before the `retry-after` of the previous 429 on its route had passed is an application retry
that came too early. Many 429s within a minute of a route's first call mean traffic started at full
speed: it should ramp up. State is per route, in a bounded LRU.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from anthropic_otel._diagnostics.findings import CODES, Finding
from anthropic_otel._diagnostics.state import BoundedLRU
from anthropic_otel._read.attributes import AttributeValue
from anthropic_otel._read.headers import header_attributes, header_pairs

__all__ = ["RATE_LIMITED", "FailedAttempt", "RateLimitWatch"]

RATE_LIMITED = {429: "rate limit", 529: "overloaded"}
RAMP_WINDOW = 60.0  # seconds after a route's first call
RAMP_BURST = 3  # rate-limited attempts within that window that say "ramp up"
_ROUTES = 512
_TOLERANCE = 0.005  # seconds: clock granularity between the sleep and our reading of it


@dataclass
class FailedAttempt:
    """One rate-limited attempt: status, headers as attributes, when it failed and how long until the next."""

    status: int
    headers: dict[str, AttributeValue]
    at: float
    waited: Optional[float] = None
    source: Any = field(default=None, repr=False, compare=False)
    """The HTTP response itself, so that the call's final response is not counted twice."""

    @property
    def retry_after(self) -> Optional[float]:
        value = self.headers.get("anthropic.ratelimit.retry_after")
        return float(value) if isinstance(value, (int, float)) else None


def failed_attempt(response: Any, now: float) -> Optional[FailedAttempt]:
    """A `FailedAttempt` for a 429/529 response, else None."""
    status = getattr(response, "status_code", None)
    if status not in RATE_LIMITED:
        return None
    headers = getattr(response, "headers", None)
    attributes = header_attributes(header_pairs(headers)) if headers is not None else {}
    return FailedAttempt(int(status), attributes, now, source=response)


@dataclass
class _Route:
    first_seen: float
    limited_early: int = 0
    blocked_until: float = 0.0


class RateLimitWatch:
    """Per route: when its traffic started, how many early 429s it got, and until when it should wait."""

    __slots__ = ("_clock", "_lock", "_routes")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._routes: BoundedLRU[str, _Route] = BoundedLRU(_ROUTES)

    def now(self) -> float:
        return self._clock()

    def started(self, route: str) -> bool:
        """Note a call starting on `route`; whether it starts before the last 429's retry-after passed."""
        now = self._clock()
        with self._lock:
            state = self._routes.get(route)
            if state is None:
                self._routes.put(route, _Route(now))
                return False
            return now < state.blocked_until

    @staticmethod
    def attempt_sent(retries: list[FailedAttempt], now: float) -> None:
        """A new attempt of a call is being sent: the last failed one waited until now."""
        if retries and retries[-1].waited is None:
            retries[-1].waited = now - retries[-1].at

    def outcome(self, route: str, attempts: list[FailedAttempt], early: bool, succeeded: bool) -> Optional[Finding]:
        """The finding for a call whose `attempts` were rate limited (None if none were)."""
        if not attempts:
            return None
        last = attempts[-1]
        now = self._clock()
        with self._lock:
            state = self._routes.get(route)
            if state is None:
                state = _Route(now)
                self._routes.put(route, state)
            if now - state.first_seen <= RAMP_WINDOW:
                state.limited_early += len(attempts)
            if last.retry_after is not None:
                state.blocked_until = max(state.blocked_until, last.at + last.retry_after)
            burst = state.limited_early if now - state.first_seen <= RAMP_WINDOW else 0
        return _finding(attempts, early, succeeded, burst)


def _finding(attempts: list[FailedAttempt], early: bool, succeeded: bool, burst: int) -> Finding:
    last = attempts[-1]
    attributes: dict[str, AttributeValue] = {
        "http.response.status_code": last.status,
        "anthropic.diagnostic.attempts": len(attempts),
    }
    attributes.update({key: value for key, value in last.headers.items() if key.endswith(".remaining")})
    if last.retry_after is not None:
        attributes["anthropic.ratelimit.retry_after"] = last.retry_after
    parts = [f"{len(attempts)} attempt(s) answered {last.status} ({RATE_LIMITED[last.status]})"]
    waits = [(attempt.waited, attempt.retry_after) for attempt in attempts if attempt.waited is not None]
    honoured: Optional[bool] = None
    if early:
        honoured = False
    if waits:
        waited_enough = all(after is None or waited + _TOLERANCE >= after for waited, after in waits)
        honoured = waited_enough and honoured is not False
    if honoured is not None:
        attributes["anthropic.diagnostic.retry_honoured"] = honoured
        parts.append("retried after retry-after" if honoured else "retried before retry-after had passed")
    if succeeded:
        parts.append("the call then succeeded")
    if burst >= RAMP_BURST:
        attributes["anthropic.diagnostic.ramp_up"] = True
        parts.append(f"{burst} rate-limited attempts within a minute of this route's first call: ramp up gradually")
    return Finding("rate_limited", f"{', '.join(parts)}; {CODES['rate_limited'].fix}", attributes)
