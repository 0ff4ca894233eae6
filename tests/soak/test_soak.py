"""Soak: 10,000 calls and 1,000 abandoned streams in one process, instrumented, over real HTTP.

Memory stays flat, every span that starts ends, and nothing inside anthropic_otel grows with the
number of calls. One keep-alive client talks to the fake API, run in its own process
(`python -m anthropic_otel.testing`) so that its allocations and its share of the GIL stay out of
the measurement; spans and log records go to exporters that only count (an in-memory exporter
would itself be the leak), metrics to an in-memory reader (aggregated: its size depends on the
attribute sets, not the number of calls).

Memory is measured with tracemalloc from call 2,000 on (warm: every code path, connection,
cache and metric series exists by then): what is still allocated at call 10,000 that was
allocated after call 2,000 must fit in `GROWTH_BOUND`, and the second half of the run must not
add more than `HALF_BOUND` to the first. The run prints its time and the numbers (`pytest -s`).
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import time
import tracemalloc
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._call import watch
from anthropic_otel._call.call import CURRENT
from anthropic_otel._hooks import active
from anthropic_otel._telemetry import Telemetry
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import API_KEY, ClientFactory, metric_points, user_message

CALLS = 10_000
ABANDONED = 1_000
WARM = 2_000  # tracemalloc starts here
MIDDLE = 6_000
GROWTH_BOUND = 160 * 1024  # bytes still allocated at the end that were allocated after WARM
OURS_BOUND = 4 * 1024  # of which allocated by lines of anthropic_otel itself
HALF_BOUND = 40 * 1024  # what the second half (MIDDLE..CALLS) may add: 10 bytes per call
MODEL = "claude-haiku-4-5"
ROUTES = ("triage", "summarise", "draft", "review")
# Per ten calls: seven plain, one stream read to its end, one count_tokens, one 429.
RATE_LIMITED = '{"error": {"status": 429, "retry_after": 0}}'


@pytest.fixture(scope="module")
def fake_api_url() -> Iterator[str]:
    """The fake API in a process of its own; its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "anthropic_otel.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # connections of abandoned streams reset mid-answer: tracebacks, not failures
        text=True,
    )
    try:
        assert server.stdout is not None
        found = re.search(r"http://\S+", server.stdout.readline())  # "fake Claude API at http://127.0.0.1:N ..."
        assert found is not None
        yield found.group(0)
    finally:
        server.terminate()
        server.wait(10)


class CountingSpans(SpanProcessor):
    """Counts spans started and ended, and keeps only the ones still open."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self.failed = 0
        self.incomplete_streams = 0
        self.open: dict[int, str] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started += 1
        self.open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1
        if span.context is not None:
            self.open.pop(span.context.span_id, None)
        if span.status.status_code is StatusCode.ERROR:
            self.failed += 1
        if (span.attributes or {}).get("anthropic.stream.completed") is False:
            self.incomplete_streams += 1


class CountingLogs:
    """A log exporter that counts records by event name (duck-typed: its base class was renamed in SDK 1.39)."""

    def __init__(self) -> None:
        self.events: dict[str, int] = {}

    def export(self, batch: Sequence[Any]) -> LogExportResult:
        for data in batch:
            name = getattr(getattr(data, "log_record", data), "event_name", None)
            self.events[str(name)] = self.events.get(str(name), 0) + 1
        return LogExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def module_state() -> dict[str, int]:
    """The size of every mutable container and cache held at module level in anthropic_otel."""
    sizes: dict[str, int] = {}
    for name, module in list(sys.modules.items()):
        if not (name == "anthropic_otel" or name.startswith("anthropic_otel.")) or module is None:
            continue
        for attribute, value in vars(module).items():
            where = f"{name}.{attribute}"
            if isinstance(value, (dict, set, list, deque, weakref.WeakKeyDictionary, weakref.WeakValueDictionary)):
                sizes[where] = len(value)
            cache_info = getattr(value, "cache_info", None)
            if callable(cache_info) and getattr(value, "__module__", None) == name:
                info = cache_info()
                assert info.maxsize is not None, f"{where} is an unbounded cache"
                sizes[where] = info.currsize
    return sizes


def stream_finalizers(telemetry: Telemetry) -> int:
    """Live `weakref.finalize` entries of watched results of `telemetry`'s calls (one per result not collected).

    Only this run's: results that other tests in the same worker still hold are not the soak's.
    """
    registry = weakref.finalize._registry  # type: ignore[attr-defined]
    return sum(
        1
        for info in list(registry.values())
        if info.func is watch._finalize and info.args[0].call.telemetry is telemetry
    )


def call(client: anthropic.Anthropic, index: int) -> None:
    """One of the ten kinds of call, by index."""
    kind = index % 10
    if kind == 7:
        for _ in client.messages.create(model=MODEL, max_tokens=16, messages=user_message(), stream=True):
            pass
    elif kind == 8:
        client.messages.count_tokens(model=MODEL, messages=user_message())
    elif kind == 9:
        try:
            client.messages.create(
                model=MODEL, max_tokens=16, messages=user_message(), extra_headers={"x-fake-reply": RATE_LIMITED}
            )
        except anthropic.RateLimitError:
            pass
        else:  # pragma: no cover - the fake API always answers 429 here
            raise AssertionError("expected a 429")
    else:
        client.messages.create(model=MODEL, max_tokens=16, messages=user_message())


def abandon_stream(client: anthropic.Anthropic, index: int) -> None:
    """A stream the application stops reading: closed, broken out of, or dropped unread."""
    stream = client.messages.create(model=MODEL, max_tokens=16, messages=user_message(), stream=True)
    kind = index % 3
    if kind == 0:
        next(iter(stream))
        stream.close()
    elif kind == 1:
        for _ in stream:
            break
        stream.close()  # the app's connection hygiene; the span already ended at `break`
    else:
        next(iter(stream))
        stream.response.close()  # release the connection, as an app would by leaving a `with`
        del stream  # ... but the proxy is dropped without close(): its finalizer ends the span


def instrumented() -> tuple[AnthropicInstrumentor, CountingSpans, CountingLogs, InMemoryMetricReader]:
    spans, logs, reader = CountingSpans(), CountingLogs(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(spans)
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))  # type: ignore[arg-type]
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[reader]),
        logger_provider=logger_provider,
    )
    return instrumentor, spans, logs, reader


def soak(client: anthropic.Anthropic) -> tuple[dict[int, int], dict[int, dict[str, int]], tracemalloc.Snapshot]:
    """Run the calls; tracemalloc memory and module state at WARM, MIDDLE and the end, and a final snapshot."""
    memory: dict[int, int] = {}
    state: dict[int, dict[str, int]] = {}
    try:
        for index in range(CALLS):
            if index in (WARM, MIDDLE):
                gc.collect()
                if index == WARM:
                    tracemalloc.start()
                memory[index] = tracemalloc.get_traced_memory()[0]
                state[index] = module_state()
            with anthropic_otel.route(ROUTES[index % len(ROUTES)]):
                call(client, index)
                if index % (CALLS // ABANDONED) == 0:
                    abandon_stream(client, index)
        gc.collect()
        memory[CALLS] = tracemalloc.get_traced_memory()[0]
        snapshot = tracemalloc.take_snapshot()
        state[CALLS] = module_state()
    finally:
        tracemalloc.stop()
    return memory, state, snapshot


def test_10000_calls_and_1000_abandoned_streams_keep_memory_flat_and_end_every_span(fake_api_url: str) -> None:
    instrumentor, spans, logs, reader = instrumented()
    telemetry = active.telemetry
    assert telemetry is not None
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fake_api_url, max_retries=0)
    started = time.perf_counter()
    try:
        memory, state, snapshot = soak(client)
    finally:
        client.close()
        instrumentor.uninstrument()
    elapsed = time.perf_counter() - started

    growth, second_half = memory[CALLS], memory[CALLS] - memory[MIDDLE]
    by_file = snapshot.statistics("filename")
    ours = sum(stat.size for stat in by_file if f"{os.sep}anthropic_otel{os.sep}" in stat.traceback[0].filename)
    print(
        f"\nsoak: anthropic {anthropic.__version__}: {CALLS} calls + {ABANDONED} abandoned streams in {elapsed:.1f} s; "
        f"still allocated at the end from after call {WARM}: {growth / 1024:.1f} KiB, {ours} B of it by "
        f"anthropic_otel ({memory[MIDDLE] / 1024:.1f} KiB at call {MIDDLE}, second half {second_half / 1024:+.1f} KiB)"
    )
    for stat in by_file[:5]:
        print(f"  {stat}")

    # every span started ended, once; every call made one span, one record and one duration point
    assert spans.open == {}
    assert spans.started == spans.ended == CALLS + ABANDONED
    assert spans.incomplete_streams == ABANDONED
    assert spans.failed == CALLS // 10
    assert logs.events == {"anthropic.call": CALLS + ABANDONED}
    durations = metric_points(reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == CALLS + ABANDONED
    assert sum(point.count for point in durations if point.attributes.get("error.type") == "rate_limit_error") == (
        CALLS // 10
    )
    # nothing of a call outlives it: context, finalizers, module-level state, limiters
    assert CURRENT.get() is None
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert stream_finalizers(telemetry) == 0
    assert state[WARM] == state[MIDDLE] == state[CALLS]
    assert (len(telemetry.routes), len(telemetry.models), len(telemetry.error_types)) == (len(ROUTES), 0, 1)
    # memory: flat
    assert growth < GROWTH_BOUND
    assert ours < OURS_BOUND
    assert second_half < HALF_BOUND


def test_module_state_sees_our_containers_and_caches() -> None:
    """The inspection above is not vacuous: it finds module-level containers and lru caches."""
    state = module_state()
    assert "anthropic_otel._read.price_table._default_table" in state
    assert any(key.startswith("anthropic_otel.") for key in state if not key.endswith("__all__"))


@pytest.mark.sdk_tracing_only
def test_stream_helpers_are_freed_and_end_with_the_sdks_own_tracing(
    api: FakeClaudeAPI, make_client: ClientFactory, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> None:
    """SDK 1.14+: the response's span observer leads back to the stream through a `messages.stream()`
    helper. What the stream's finalizer holds must not lead there, or the stream lives forever and a
    helper dropped unclosed never ends its span."""
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    client = make_client(sdk_tracing=True)
    try:
        for _ in range(20):
            with client.messages.stream(model=MODEL, max_tokens=16, messages=user_message()) as stream:
                stream.get_final_message()
        del stream
        for _ in range(5):  # entered, read in part, dropped without leaving or closing
            dropped = client.messages.stream(model=MODEL, max_tokens=16, messages=user_message()).__enter__()
            next(iter(dropped))
            del dropped
        gc.collect()
        alive = sum(1 for item in gc.get_objects() if isinstance(item, anthropic.Stream))
    finally:
        client.close()
        instrumentor.uninstrument()
    assert alive == 0
    assert len(span_exporter.get_finished_spans()) == 25
