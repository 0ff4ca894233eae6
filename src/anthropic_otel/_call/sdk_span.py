"""SDK 1.14+: the SDK's own span is the call's only span; ours goes on it before the SDK ends it.

The SDK hands its span to `finish_api_call_span(client, span, result)` just before it records its
attributes and, for most calls, ends it: our hook there calls `enrich`, which puts the call's
route and conversation, and its outcome (`end.annotate`), on the span. A stream, batch
results or a raw body the application reads later keep the SDK's span open until the body ends:
then the SDK's `FirstEnd` observer is about to end it, and our hook there (`body_ending`) puts the
outcome as far as the application read it on the span first. The SDK's own values win where both
record a key: it sets them after us.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Callable, Optional

from opentelemetry.trace import Span

from anthropic_otel._call.call import CURRENT, Call
from anthropic_otel._call.end import annotate
from anthropic_otel._call.outcome import Outcome, read, response_body, response_header_attributes
from anthropic_otel._call.watch import is_stream

__all__ = ["SCOPE_KEYS", "body_ending", "enrich"]

log = logging.getLogger(__name__)

# What the running code says about a call (route, conversation): the SDK's span gets them from us.
SCOPE_KEYS = ("anthropic.route", "gen_ai.conversation.id")
# What the request says that the SDK's span leaves out (`request_extras`): it gets them from us too.
# Not stop sequences: the SDK records them itself, as content, under its own content capture and bounds.
REQUEST_KEYS = (
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "user.id",
)
_START_KEYS = SCOPE_KEYS + REQUEST_KEYS

# The calls whose SDK span ends with their body, by the id of that span.
_waiting: weakref.WeakValueDictionary[int, Call] = weakref.WeakValueDictionary()


def enrich(span: Span, result: Any) -> None:
    """The SDK (1.14+) hands over its span and the call's result, just before it records and ends it."""
    call = CURRENT.get()
    if call is None or call.span is not None or call.sdk_span is not None:
        return
    call.sdk_span = span
    if not span.is_recording():
        return
    started = getattr(span, "start_time", None)
    if isinstance(started, int):  # time the call (duration, first chunk) from the span that records it
        call.start_s += (started - call.start_ns) / 1e9
        call.start_ns = started
    started_with = {key: call.attributes[key] for key in _START_KEYS if key in call.attributes}
    if started_with:  # most calls have none of them: no empty call into the span
        span.set_attributes(started_with)
    error: Optional[BaseException] = getattr(result, "error", None)
    response = getattr(result, "final_attempt", None)
    data = getattr(result, "data", None)
    if error is None and response is not None and (not response.is_closed or is_stream(data)):
        # The SDK ends its span when the body ends: the outcome goes on then (`body_ending`).
        span.set_attributes(response_header_attributes(call, response))
        _waiting[id(span)] = call
        return
    outcome = Outcome(response, response_body(data) if error is None else None, error)
    annotate(call, span, read(call, outcome, metrics=False), own=False)


def body_ending(observer: Any, how: str, error: Optional[BaseException], sdk_end: Callable[[], Any]) -> bool:
    """The SDK's observer of a body is about to end its span (`how`: read, closed or failed).

    Returns True when the SDK's end (`sdk_end`) is held back until the call ends: the body of batch
    results is read ahead of the results the application has seen, and an unread raw body is read
    inside `parse()`, before its answer reaches us. Their span ends when the call does (`end.end`),
    with what the application read on it. Otherwise the call's outcome goes on the span now.
    """
    span = getattr(observer, "_span", None)
    call = _waiting.get(id(span)) if span is not None else None
    if call is None or call.sdk_span is not span or call.sdk_annotated or call.ended:
        return False
    watcher = call.watcher
    if watcher is not None and watcher.holds_sdk_span:
        if call.sdk_end is None:
            call.sdk_end = sdk_end
        return True
    _waiting.pop(id(span), None)
    if watcher is not None:
        outcome = watcher.outcome(error, exhausted=how == "read")
    else:
        outcome = Outcome(call.response, None, error)
    annotate(call, span, read(call, outcome, metrics=False), own=False)
    return False
