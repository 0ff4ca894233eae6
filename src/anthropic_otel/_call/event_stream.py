"""Managed-agent event streams: the call ends exactly once, however the application stops reading.

`sessions.events.stream()` (and a thread's `events.stream()`) returns an SSE `Stream` of session
events that has no end event: it runs as long as the session is watched. Like a message stream,
the call's span and metrics end when the stream is exhausted, closed, broken off and dropped, or
fails, and only then (`watch`). There is no `message_stop` to wait for, so ending early is no error and reaching the end
no success either (the span's status stays unset, as the SDK leaves its own). Per event, one type
check: the last `session.usage` snapshot is kept, the session's usage so far (`sessions`).
"""

from __future__ import annotations

from typing import Any, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Outcome
from anthropic_otel._call.watch import Recorder, is_stream, watch
from anthropic_otel._read.sessions import SESSION_USAGE_EVENT

__all__ = ["SessionEventRecorder", "watch_event_stream"]


class SessionEventRecorder(Recorder):
    """Keeps the last usage snapshot among the events; the stream's body, for its end, is that event."""

    __slots__ = ("usage_event",)

    def __init__(self, call: Call) -> None:
        super().__init__(call)
        self.usage_event: Any = None

    def on_item(self, item: Any) -> None:
        if getattr(item, "type", None) == SESSION_USAGE_EVENT:
            self.usage_event = item

    def outcome(self, error: Optional[BaseException], *, exhausted: bool) -> Outcome:
        event = self.usage_event
        return Outcome(self.call.response, None if event is None else {"data": [event]}, error)


def watch_event_stream(call: Call, result: Any) -> bool:
    """Watch a session event stream in place; False if `result` is not one."""
    if not call.operation.is_event_stream or not is_stream(result):
        return False
    return watch(result, SessionEventRecorder(call))
