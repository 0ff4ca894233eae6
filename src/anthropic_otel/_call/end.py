"""The end of a call: its span, its metrics, its record and its content, exactly once. Never raises.

Every way a call ends arrives at `end(call, ending)`: a call that returned or raised, a stream or
batch results read to their end, closed, broken off or dropped, a raw body parsed or dropped, a
chat completion through the `openai` SDK. `call.ended` makes the first one the only one. Whoever
saw the call end has read its outcome already (`outcome.read`): here it is only written out, one
way down: the call's own layer (a tool runner's totals, a session's usage), then its span, content,
metrics and record, each handed values, none calling back.

Each step runs on its own, so that one that fails (a content hook that raises) loses only its own
telemetry: our span, when we made one, is ended in a `finally`, and the metrics and the record are
made whatever happened to the span. `annotate` is the one place that decides what goes on a span at
the end of a call, ours or the SDK's own (`sdk_span`).
"""

from __future__ import annotations

import logging
import time
from typing import Optional

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel._call.agent_run import add_call
from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Ending, Outcome
from anthropic_otel._call.sessions import SESSION_KINDS, record_session_usage
from anthropic_otel._content_capture import CONTENT_EVENT
from anthropic_otel._metrics import CallMetrics
from anthropic_otel._read.attributes import Attributes
from anthropic_otel._records import call_record

__all__ = ["abandon", "annotate", "end", "set_end_status"]

log = logging.getLogger("anthropic_otel.lifecycle")

_OK, _ERROR = Status(StatusCode.OK), Status(StatusCode.ERROR)  # immutable, so shared by every call


def end(call: Call, ending: Ending) -> None:
    """End `call` as `ending` says, unless it has ended already. Never raises."""
    if call.ended:
        return
    call.ended = True
    outcome = ending.outcome
    context = call.context
    _totals(call, ending)
    span: Optional[Span] = call.span  # ended in the `finally`, whatever fails before
    try:
        span = _span_to_end(call)
        annotate(call, span or call.sdk_span, ending, own=span is not None)
    except Exception:
        log.debug("anthropic-otel: could not record the end of a call on its span", exc_info=True)
    finally:
        try:
            if span is not None:
                span.end()
            elif call.sdk_end is not None:
                call.sdk_end()  # the SDK's own end of its span, held back for this (`sdk_span.body_ending`)
        except Exception:
            log.debug("anthropic-otel: could not end a call's span", exc_info=True)
    duration = time.perf_counter() - call.start_s
    call_log = call.telemetry.call_log
    wanted = call_log.wanted
    everything: Attributes = {}
    event: Optional[Attributes] = None
    if wanted:
        everything = {**call.attributes, **ending.attributes}
        content = call.content
        if content is not None and content.capture.on_event:
            try:
                event = content.event_attributes(everything, outcome.body)
            except Exception:
                log.debug("anthropic-otel: could not read a call's content event", exc_info=True)
    if ending.points is not None:
        try:
            call.telemetry.instruments.record_call(
                CallMetrics(
                    ending.points,
                    duration,
                    ending.counts,
                    call.retries,
                    outcome.time_to_first_chunk,
                    ending.attributes,
                    ending.cost,
                    outcome.time_per_output_chunk,
                    ending.headroom,
                ),
                context,
            )
        except Exception:
            log.debug("anthropic-otel: could not record a call's metrics", exc_info=True)
    if wanted:
        try:
            call_log.emit(call_record(everything, duration), context)
            if event is not None:
                call_log.emit_event(CONTENT_EVENT, event, context, failed=False, json_line=False)
        except Exception:
            log.debug("anthropic-otel: could not emit a call's record", exc_info=True)
    # A result's recorder and its call hold each other: let go, so that both are freed with the result
    # by reference counting, not left to the cycle collector (a soak run found them outliving it).
    call.watcher = None


def _totals(call: Call, ending: Ending) -> None:
    """What the call adds to what holds it: its tool runner loop's totals, its session's usage."""
    if call.run is not None:
        try:
            add_call(call, ending.counts, ending.cost)
        except Exception:
            log.debug("anthropic-otel: could not add a call to its tool runner's totals", exc_info=True)
    if call.operation.kind in SESSION_KINDS:
        try:
            record_session_usage(call, ending.outcome)
        except Exception:
            log.debug("anthropic-otel: could not record a session's usage", exc_info=True)


def abandon(call: Call) -> None:
    """The end of `call` failed before it ended the span: end the span (ours, or the SDK's held back), at
    least, so that none is left open. What else the end would have recorded is lost. Never raises."""
    try:
        call.ended = True
        span = call.span
        if span is not None and span.is_recording():
            span.end()
        elif call.sdk_end is not None:
            call.sdk_end()
    except Exception:
        log.debug("anthropic-otel: could not end the span of a call whose end failed", exc_info=True)
    call.watcher = None


def _span_to_end(call: Call) -> Optional[Span]:
    """Our span, if we made one; or one made now for a call whose SDK span never came.

    We expected the SDK (1.14+) to make a span and it did not: ours, late, rather than none. Not
    after `uninstrument()`: then our hook on the SDK's span was removed mid-call, and its span exists.
    """
    span = call.span
    if span is None and call.sdk_span is None and call.traced and call.telemetry.active:
        span = call.span = call.telemetry.tracer.start_span(
            call.operation.name, kind=SpanKind.CLIENT, attributes=call.attributes, start_time=call.start_ns
        )
    return span


# What the SDK's own tracing (1.14 to 2.15) records on a call's span itself: on its span ours would be
# written twice, or overwrite a value the SDK set earlier (time to first chunk), or add what the SDK
# chose to leave out (a stop reason it could not accumulate). Only what it leaves out goes on.
SDK_KEYS = frozenset(
    {
        "http.response.status_code",
        "http.request.resend_count",
        "error.type",
        "anthropic.request.id",
        "anthropic.organization.id",
        "anthropic.workspace.id",
        "gen_ai.response.id",
        "gen_ai.response.model",
        "gen_ai.response.time_to_first_chunk",
        "anthropic.message.stop_reason",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
        "anthropic.response.service_tier",
        "anthropic.message.count_tokens.input_tokens",
    }
)


def annotate(call: Call, span: Optional[Span], ending: Ending, *, own: bool) -> None:
    """Put the end of `call` on `span` (still open): attributes, diagnostics, content; on our own span
    also the URL and the status. The one place that decides it, for both paths.

    On the SDK's own span (1.14+) only what the SDK leaves out goes on, once: for most calls when the
    SDK hands its span over (`sdk_span.enrich`); for a result read later, when the SDK is about to end
    the span at the end of its body, or at the call's own end if that comes first (a stream dropped
    unread). The SDK's values win where both set a key: it sets them after this.
    """
    outcome = ending.outcome
    recording = span is not None and span.is_recording()
    if recording and not own:
        recording = not call.sdk_annotated  # the SDK's span gets the end of its call once
        call.sdk_annotated = True
    if span is None or not recording:
        _diagnose(call, outcome, None)
        return
    if own:
        if ending.url:
            span.set_attributes(ending.url)
        span.set_attributes(ending.attributes)
    else:
        span.set_attributes({key: value for key, value in ending.attributes.items() if key not in SDK_KEYS})
    _diagnose(call, outcome, span)
    if own:
        set_end_status(span, ending.attributes, outcome, has_end=not call.operation.is_event_stream)
    content = call.content
    if content is not None and (content.capture.on_span if own else content.on_sdk_span):
        content.set_on_span(span, outcome.body)


def _diagnose(call: Call, outcome: Outcome, span: Optional[Span]) -> None:
    diagnosis = call.diagnosis
    if diagnosis is not None and not diagnosis.done:
        call.telemetry.diagnostics.on_outcome(
            diagnosis, call.request, outcome.body, outcome.error, outcome.response, span=span, context=call.context
        )


def set_end_status(span: Span, attributes: Attributes, outcome: Outcome, *, has_end: bool = True) -> None:
    """The status of a span we made, as the SDK sets its own: OK, ERROR, or left unset.

    A stream closed or dropped before its end is no error, and no success either: status stays
    unset; so does an event stream (`has_end=False`), which has no end, and a call the application
    stopped (cancelled, interrupted: an error that `Outcome.failed` does not count).
    """
    if outcome.failed:
        span.set_status(_ERROR)
    elif outcome.error is None and attributes.get("anthropic.stream.completed") is not False and has_end:
        span.set_status(_OK)
