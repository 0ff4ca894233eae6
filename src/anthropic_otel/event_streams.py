"""Managed-agent event streams: the call ends exactly once, however the application stops reading.

`sessions.events.stream()` (and a thread's `events.stream()`) returns an SSE `Stream` of session
events that has no end event: it runs as long as the session is watched. Like a message stream,
the call's span and metrics must end when the stream is exhausted, closed (also by `with`),
broken out of, fails, or is garbage-collected unread, and only then. The stream proxies of
`streaming` do the watching; this recorder only tells them what the end means: no token usage,
no `message_stop` to wait for, so ending early is no error and reaching the end no success
either (the span's status stays unset, as the SDK 2.13 leaves its own).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Optional

from anthropic_otel.streaming import AsyncStreamProxy, StreamProxy

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

__all__ = ["EventStreamRecorder", "wrap_event_stream"]

log = logging.getLogger(__name__)

Complete = Callable[..., None]


class EventStreamRecorder:
    """Ends one event-stream call once. Keeps nothing per event."""

    __slots__ = ("__weakref__", "complete", "finished", "record")

    def __init__(self, record: CallRecord, complete: Complete) -> None:
        self.record = record
        self.complete = complete
        self.finished = False

    def on_item(self, item: Any) -> None:
        """Nothing to learn from a session event: the proxies call this for every one."""

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None:
        """End the call once: our span (if any) and metrics, with the error if reading failed. Never raises."""
        if self.finished:
            return
        self.finished = True
        try:
            self.complete(self.record, self.record.response, None, error)
        except Exception:
            log.debug("anthropic-otel: could not finish an event stream", exc_info=True)


def wrap_event_stream(record: CallRecord, result: Any, complete: Complete) -> Optional[Any]:
    """The proxy for a session event stream, or None if `result` is not one."""
    if not record.operation.is_event_stream:
        return None
    name = type(result).__name__
    if name == "Stream":
        return StreamProxy(result, EventStreamRecorder(record, complete))
    if name == "AsyncStream":
        return AsyncStreamProxy(result, EventStreamRecorder(record, complete))
    return None
