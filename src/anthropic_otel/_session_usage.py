"""What each managed-agents session has been counted for, so that its usage reaches the metrics once.

The API reports a session's usage as a running total, again on every retrieve, list and usage
event. Each report is compared with the last total this process recorded for that session, and
only the increase is recorded (tokens by category, server tool requests): retrieving a session
ten times counts its tokens once. The counts are per process: one that first sees a session after
its agent has run counts what it ran so far, once. Bounded: the least recently seen sessions are
forgotten past `limit`, and one seen again after that would be counted again from zero.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Optional

from anthropic_otel._read.attributes import field, int_field

__all__ = ["SessionUsage"]

# (path in the API's usage object) of each counted quantity, in the order totals keep them.
_FIELDS = (
    ("input_tokens",),
    ("output_tokens",),
    ("cache_read_input_tokens",),
    ("cache_creation", "ephemeral_5m_input_tokens"),
    ("cache_creation", "ephemeral_1h_input_tokens"),
    ("server_tool_use", "web_search_requests"),
    ("server_tool_use", "web_fetch_requests"),
)
Totals = tuple[int, ...]


def _totals(usage: object) -> Totals:
    return tuple(max(int_field(usage, *path) or 0, 0) for path in _FIELDS)


def _as_usage(counts: Totals) -> dict[str, Any]:
    """An increase, shaped like the Messages API's usage object (which metrics and prices read)."""
    uncached, output, read, write_5m, write_1h, searches, fetches = counts
    usage: dict[str, Any] = {
        "input_tokens": uncached,
        "output_tokens": output,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
    }
    if searches or fetches:
        usage["server_tool_use"] = {"web_search_requests": searches, "web_fetch_requests": fetches}
    return usage


class SessionUsage:
    """Per session: the usage totals recorded so far and the agent's model. Thread-safe."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._seen: OrderedDict[str, tuple[Totals, Optional[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def increase(self, session_id: str, model: Optional[str], usage: object) -> tuple[Optional[dict[str, Any]], Any]:
        """The part of the cumulative `usage` of a session not recorded yet (None if nothing grew), as a
        usage object, and the session's model (`model`, else the one seen with it before)."""
        if field(usage, "input_tokens") is None and field(usage, "output_tokens") is None:
            return None, model
        totals = _totals(usage)
        with self._lock:
            before, known_model = self._seen.pop(session_id, ((0,) * len(_FIELDS), None))
            model = model or known_model
            self._seen[session_id] = (tuple(map(max, totals, before)), model)
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)
        grown = tuple(max(now - then, 0) for now, then in zip(totals, before))
        return (_as_usage(grown) if any(grown) else None), model
