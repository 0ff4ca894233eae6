"""instrument() / uninstrument() while calls are in flight: nothing crashes, nothing is recorded twice.

The rule: a call belongs to the instrumentation state it started under. A call (or stream)
started while instrumented finishes as it began: its span ends exactly once, with its metrics,
even if `uninstrument()` ran in between; on SDK 1.14+ with the SDK's own tracing the SDK's span
stays the only one. A call started bare stays bare even if `instrument()` runs before it returns.
Calls started after `uninstrument()` are bare; instrumenting again records again.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import SCOPE, ClientFactory, instrumenting, metric_points, user_message

MODEL = "claude-sonnet-4-6"
SLOW = {"x-fake-reply": json.dumps({"delay": 0.5})}


def ask(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 16, "messages": user_message(), **extra}


def duration_count(reader: InMemoryMetricReader) -> int:
    return sum(point.count for point in metric_points(reader, "gen_ai.client.operation.duration"))


def wait_for_request(api: FakeClaudeAPI, count: int = 1) -> None:
    """Until the fake API has received `count` requests (the call is then in flight: its answer is delayed)."""
    deadline = time.monotonic() + 10
    while api.request_count < count:
        assert time.monotonic() < deadline, "the request never arrived"
        time.sleep(0.002)


@pytest.fixture
def instrumentor(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> Iterator[AnthropicInstrumentor]:
    """Instrumented; the test may uninstrument (and instrument again) as it likes."""
    with instrumenting(tracer_provider, meter_provider) as instrumentor:
        yield instrumentor


def test_a_call_in_flight_at_uninstrument_ends_its_one_span_then_calls_are_bare(
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrumentor: AnthropicInstrumentor,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(client.messages.create(**ask(extra_headers=SLOW))))
    worker.start()
    wait_for_request(api)
    instrumentor.uninstrument()
    in_flight = worker.is_alive()
    worker.join()

    assert in_flight
    assert results[0].usage.output_tokens > 0  # the app got its answer
    assert len(span_exporter.get_finished_spans()) == 1
    assert duration_count(metric_reader) == 1

    client.messages.create(**ask())  # bare now
    assert len(span_exporter.get_finished_spans()) == (2 if sdk_tracing else 1)  # the SDK's own span, if any
    assert duration_count(metric_reader) == 1

    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    client.messages.create(**ask())
    assert len(span_exporter.get_finished_spans()) == (3 if sdk_tracing else 2)
    assert duration_count(metric_reader) == 2
    client.close()


def test_an_async_call_in_flight_at_uninstrument_ends_its_one_span(
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrumentor: AnthropicInstrumentor,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:

    async def main() -> tuple[bool, Any]:
        client = make_client(async_=True, sdk_tracing=sdk_tracing)
        task = asyncio.ensure_future(client.messages.create(**ask(extra_headers=SLOW)))
        while api.request_count == 0:
            await asyncio.sleep(0.002)
        instrumentor.uninstrument()
        in_flight = not task.done()
        message = await task
        await client.messages.create(**ask())  # bare
        await client.close()
        return in_flight, message

    in_flight, message = asyncio.run(main())
    assert in_flight
    assert message.usage.output_tokens > 0
    assert len(span_exporter.get_finished_spans()) == (2 if sdk_tracing else 1)
    assert duration_count(metric_reader) == 1


@pytest.mark.parametrize("ending", ["read-to-end", "closed-early", "dropped"])
def test_a_stream_opened_instrumented_and_read_after_uninstrument_ends_once(
    ending: str,
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrumentor: AnthropicInstrumentor,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    stream = client.messages.create(**ask(stream=True))
    events = iter(stream)
    assert next(events).type == "message_start"
    instrumentor.uninstrument()
    if ending == "read-to-end":
        assert [event.type for event in events][-1] == "message_stop"
    elif ending == "closed-early":
        next(events)
        stream.close()  # the hook on close() went with uninstrument(): the call ends when the stream goes
        del stream, events
        gc.collect()
    else:
        next(events)
        stream.response.close()
        del stream, events
        gc.collect()

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 1
    if not sdk_tracing:  # ours: its end says how far the stream got
        assert (spans[0].attributes or {})["anthropic.stream.completed"] is (ending == "read-to-end")
        if ending == "read-to-end":
            assert (spans[0].attributes or {})["gen_ai.usage.output_tokens"] > 0
    assert duration_count(metric_reader) == 1
    client.close()


def test_a_call_in_flight_at_instrument_stays_bare(
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    client = make_client()
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(client.messages.create(**ask(extra_headers=SLOW))))
    worker.start()
    wait_for_request(api)
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        in_flight = worker.is_alive()
        worker.join()
        assert in_flight
        assert results[0].usage.output_tokens > 0
        bare = span_exporter.get_finished_spans()  # the SDK's own (1.14+), if it traces: not ours, not enriched
        assert [span.instrumentation_scope.name for span in bare] == ([SCOPE[True]] if sdk_tracing else [])
        assert all("anthropic.ratelimit.requests.limit" not in span.attributes for span in bare)
        assert duration_count(metric_reader) == 0
        client.messages.create(**ask())
        assert len(span_exporter.get_finished_spans()) == len(bare) + 1
        assert duration_count(metric_reader) == 1
    finally:
        instrumentor.uninstrument()
        client.close()


class OpenSpans(SpanProcessor):
    """Counts spans started and ended, and keeps the ones still open."""

    def __init__(self) -> None:
        self.started = self.ended = 0
        self.open: dict[int, str] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started += 1
            self.open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended += 1
            if span.context is not None:
                self.open.pop(span.context.span_id, None)


def test_toggling_instrumentation_under_load_never_breaks_a_call(
    api: FakeClaudeAPI, make_client: ClientFactory
) -> None:
    """4 threads call (plain and streamed) while instrument/uninstrument flip 30 times: every call
    returns what it should, every span that started ended, and no call has two spans."""
    spans, exporter = OpenSpans(), InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stop = threading.Event()
    errors: list[BaseException] = []
    made = [0] * 4

    def caller(index: int) -> None:
        client = make_client()
        try:
            while not stop.is_set():
                number = made[index] = made[index] + 1
                marker = {"x-fake-reply": json.dumps({"usage": {"input_tokens": index * 100_000 + number}})}
                if number % 2:
                    message = client.messages.create(**ask(extra_headers=marker))
                    assert message.usage.input_tokens == index * 100_000 + number
                else:
                    with client.messages.stream(**ask(extra_headers=marker)) as stream:
                        assert stream.get_final_message().usage.input_tokens == index * 100_000 + number
        except BaseException as error:
            errors.append(error)
        finally:
            client.close()

    workers = [threading.Thread(target=caller, args=(index,)) for index in range(4)]
    for worker in workers:
        worker.start()
    instrumentor = AnthropicInstrumentor()
    try:
        for _ in range(30):
            instrumentor.instrument(tracer_provider=provider)
            wait_for_request(api, api.request_count + 4)
            instrumentor.uninstrument()
            wait_for_request(api, api.request_count + 4)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        instrumentor.uninstrument()

    assert errors == []
    assert spans.open == {}
    assert spans.started == spans.ended > 0
    markers = [(span.attributes or {}).get("gen_ai.usage.input_tokens") for span in exporter.get_finished_spans()]
    assert len(markers) == len(set(markers))  # no call has two spans
    assert sum(made) > len(markers)  # and some ran bare
