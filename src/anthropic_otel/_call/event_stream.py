"""Managed-agent event streams: the call ends exactly once, however the application stops reading.

`sessions.events.stream()` (and a thread's `events.stream()`) returns an SSE `Stream` of session
events that has no end event: it runs as long as the session is watched. Like a message stream,
the call's span and metrics end when the stream is exhausted, closed, broken off and dropped, or
fails, and only then (`watch`). Nothing is learnt per event: no token usage, no `message_stop` to
wait for, so ending early is no error and reaching the end no success either (the span's status
stays unset, as the SDK leaves its own).
"""

from __future__ import annotations

from typing import Any

from anthropic_otel._call.call import Call
from anthropic_otel._call.watch import Recorder, is_stream, watch

__all__ = ["watch_event_stream"]


def watch_event_stream(call: Call, result: Any) -> bool:
    """Watch a session event stream in place; False if `result` is not one."""
    if not call.operation.is_event_stream or not is_stream(result):
        return False
    return watch(result, Recorder(call))
