"""Memory over many streams and results, for the soak stage: too slow for the default suite.

Both trace allocations with tracemalloc, which slows every allocation several times over: 1,000
abandoned streams with and without the instrumentation (a minute or more on a 2-core machine),
100,000 batch results read one by one (about fifteen seconds).
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, InMemoryLogExporter, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"


def create_kwargs(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": user_message(), **extra}


def test_abandoned_streams_leave_no_growth(
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogExporter,
    instrument: Any,
) -> None:
    def abandon(count: int) -> int:
        # A dropped stream keeps its pooled connection busy for good (bare SDK too: httpx never
        # closes a response it garbage-collects), so each hundred streams get a client of their own.
        for _ in range(count // 100):
            client = make_client()
            for _ in range(100):
                stream = client.messages.create(stream=True, **create_kwargs())
                del stream
            gc.collect()
            client.close()
            api.reset()  # the fake API's own record of requests is not the instrumentation's
        gc.collect()
        ended = len(span_exporter.get_finished_spans())
        span_exporter.clear()
        log_exporter.clear()  # the exporters keep what they got: that is the test's memory, not ours
        return ended

    # The fake API runs in this process: its connection threads (and the tracebacks they print when
    # a client goes away) come and go on their own schedule, so they are left out of the count.
    server_side = [
        tracemalloc.Filter(False, "*/socketserver.py", all_frames=True),
        tracemalloc.Filter(False, "*/traceback.py", all_frames=True),
    ]

    def retained_by_abandoning_1000(spans: int) -> int:
        abandon(100)  # warm up pools and caches
        tracemalloc.start(8)  # deep enough to see a server thread's frames
        before = tracemalloc.take_snapshot().filter_traces(server_side)
        assert abandon(1000) == spans
        after = tracemalloc.take_snapshot().filter_traces(server_side)
        tracemalloc.stop()
        return sum(stat.size_diff for stat in after.compare_to(before, "filename"))

    instrumented = retained_by_abandoning_1000(spans=1000)  # each dropped stream ended its span
    instrument.uninstrument()
    try:
        bare = retained_by_abandoning_1000(spans=1000 if sdk_tracing else 0)  # the SDK's own, bare
    finally:
        instrument.instrument()
    # What the SDK and httpx keep for a while is the same with and without us; ours must be nothing.
    assert instrumented - bare < 128 * 1024, f"1,000 abandoned streams retained {instrumented} bytes, bare {bare}"


def test_100000_results_one_span_bounded_memory(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogExporter,
) -> None:
    batch_id = api.add_synthetic_batch(100_000)
    client = make_client()
    results = client.messages.batches.results(batch_id)
    seen = 0
    growth = None
    for item in results:
        seen += 1
        del item
        # Memory is traced over a window of 10,000 results (tracing all 100,000 takes minutes): a
        # per-result leak of even a few dozen bytes would show as hundreds of kilobytes.
        if seen in (20_000, 30_000):
            log_exporter.clear()  # the test's exporter keeps records; the instrumentation keeps none
            gc.collect()
            if seen == 20_000:
                tracemalloc.start()
                baseline = tracemalloc.get_traced_memory()[0]
            else:
                growth = tracemalloc.get_traced_memory()[0] - baseline
                tracemalloc.stop()
    assert growth is not None
    assert growth < 256 * 1024, f"{growth} bytes retained over 10,000 results"
    assert seen == 100_000
    spans = [s for s in span_exporter.get_finished_spans() if s.name == "anthropic.messages.batches.results"]
    assert len(spans) == 1
    assert spans[0].attributes["anthropic.batch.results.succeeded"] == 100_000
