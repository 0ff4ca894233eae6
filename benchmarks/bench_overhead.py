"""Overhead of the instrumentation, as ratios to the bare SDK measured in the same run.

    .venv/bin/python benchmarks/bench_overhead.py [--calls 2000] [--rounds 5] [--quick]

Measures, for the bare SDK and the SDK under anthropic-otel (and, on SDK 1.14+, the SDK's own
tracing alone and with our enrichment on top):

- a non-streaming `messages.create`, over an in-process transport (the SDK's work and ours, not
  the network's) and over loopback HTTP to the fake Claude API;
- a streamed event (1,000-event streams, minus the per-call part);
- the memory an open stream holds (tracemalloc, 200 streams left open after their first event);
- a Message Batch result read through `batches.results()` (loopback HTTP, 5,000 results);
- the floor under a call: the OpenTelemetry SDK's own work for the same telemetry (`floor`), so
  that what anthropic-otel adds splits into what OpenTelemetry costs and what reading the call costs.

Responses carry what the real API sends (request id, rate-limit headers, cache usage), so that
the per-call work is the real one. Span export is excluded (a TracerProvider without processors
still records spans); metrics are aggregated by an SDK MeterProvider. Scenarios are interleaved
round by round so that a noisy neighbour slows them all alike; medians are reported, CPU time
(`time.process_time`) so that other processes on a shared machine count less.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import anthropic
import anthropic._base_client
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from wrapt import wrap_function_wrapper

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._metrics import Instruments
from anthropic_otel._sdk import sdk_has_tracing, sdk_span_provider
from anthropic_otel.testing import FakeClaudeAPI, MessageReply

# The HTTP library of the installed SDK: httpx2 from 1.0, httpx before (both may be installed:
# other packages, such as openai, bring httpx2 along).
if hasattr(anthropic._base_client, "httpx2"):
    import httpx2 as httpx
else:  # pragma: no cover - depends on the SDK version
    import httpx  # type: ignore[no-redef]

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 20, "output_tokens": 6, "cache_read_input_tokens": 1800, "cache_creation_input_tokens": 0}
MESSAGE = {
    "id": "msg_bench",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [{"type": "text", "text": "Hello from the benchmark."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": USAGE,
}
HEADERS = {
    "content-type": "application/json",
    "request-id": "req_benchmark0000000000000001",
    "anthropic-organization-id": "5f3c9a1e-0d2b-4c7e-9f11-8a6b2c4d0e13",
    **{
        f"anthropic-ratelimit-{kind}-{part}": value
        for kind in ("requests", "tokens", "input-tokens", "output-tokens")
        for part, value in (("limit", "4000"), ("remaining", "3999"), ("reset", "2026-11-25T12:00:00Z"))
    },
}
ASK: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
EVENTS = 1000
OPEN_STREAMS = 200
BATCH_RESULTS = 5000


def sse(events: int) -> bytes:
    """A stream of exactly `events` events: start, block start, deltas, block stop, delta, stop."""
    start = {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}}
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "word "}}
    parts = [
        ("message_start", start),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        *[("content_block_delta", delta)] * (events - 5),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in parts).encode()


def in_process_client(**options: Any) -> anthropic.Anthropic:
    json_body, stream_body = json.dumps(MESSAGE).encode(), sse(EVENTS)

    def handler(request: Any) -> Any:
        if b'"stream":true' in request.content or b'"stream": true' in request.content:
            return httpx.Response(200, headers={**HEADERS, "content-type": "text/event-stream"}, content=stream_body)
        return httpx.Response(200, headers=HEADERS, content=json_body)

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    return anthropic.Anthropic(api_key="sk-bench", base_url="http://bench.local", http_client=http_client, **options)


def cpu_per(units: int, run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) / units


def call_in_process(client: anthropic.Anthropic, calls: int) -> float:
    return cpu_per(calls, lambda: [client.messages.create(**ASK) for _ in range(calls)] and None)


def call_over_http(api: FakeClaudeAPI, client: anthropic.Anthropic, calls: int) -> float:
    api.queue(*[MessageReply(text="Hello from the benchmark.", usage=USAGE) for _ in range(calls)])
    return cpu_per(calls, lambda: [client.messages.create(**ASK) for _ in range(calls)] and None)


def stream_in_process(client: anthropic.Anthropic, streams: int) -> float:
    def run() -> None:
        for _ in range(streams):
            for _ in client.messages.create(stream=True, **ASK):
                pass

    return cpu_per(streams, run)


def memory_per_open_stream(client: anthropic.Anthropic, open_streams: int = OPEN_STREAMS) -> float:
    """Bytes an open stream (first event read, not closed) holds, averaged over `open_streams`."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = []
    for _ in range(open_streams):
        stream = client.messages.create(stream=True, **ASK)
        next(iter(stream))
        held.append(stream)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for stream in held:
        stream.close()
    return (after - before) / open_streams


def batch_result(api: FakeClaudeAPI, client: anthropic.Anthropic, batch_results: int = BATCH_RESULTS) -> float:
    batch_id = api.add_synthetic_batch(batch_results)
    return cpu_per(batch_results, lambda: sum(1 for _ in client.messages.batches.results(batch_id)) and None)


@contextmanager
def instrumented(mode: str) -> Iterator[None]:
    """`mode`: "bare", "ours" (anthropic-otel), or "floor" (the OpenTelemetry calls alone, `floor`)."""
    if mode == "bare":
        yield
        return
    if mode == "floor":
        with floor():
            yield
        return
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=TRACER_PROVIDER, meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()])
    )
    try:
        yield
    finally:
        instrumentor.uninstrument()


class _StartAttributes(SpanProcessor):
    """Keeps each span's attributes as they were when it started."""

    def __init__(self) -> None:
        self.at_start: list[dict[str, Any]] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.at_start.append(dict(span.attributes or {}))


def one_call_telemetry() -> dict[str, Any]:
    """What anthropic-otel records for one benchmark call, captured from a real instrumented call:
    its span's name and attributes (at start, and added at the end) and its histogram points'."""
    starts = _StartAttributes()
    spans = TracerProvider()
    spans.add_span_processor(starts)
    exporter = InMemorySpanExporter()
    spans.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=spans, meter_provider=MeterProvider(metric_readers=[reader]))
    try:
        in_process_client(**client_options(sdk_spans=False)).messages.create(**ASK)
    finally:
        instrumentor.uninstrument()
    (span,) = exporter.get_finished_spans()
    start = starts.at_start[0]
    points: dict[str, list[dict[str, Any]]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = [dict(point.attributes or {}) for point in metric.data.data_points]
    return {
        "name": span.name,
        "start": start,
        "end": {key: value for key, value in (span.attributes or {}).items() if key not in start},
        "duration": points["gen_ai.client.operation.duration"][0],
        "tokens": points["gen_ai.client.token.usage"],
    }


@contextmanager
def floor() -> Iterator[None]:
    """The OpenTelemetry SDK's own work for one call's telemetry, and nothing else: the span
    anthropic-otel makes (same name, same attributes at start and at end, current during the call)
    and its three histogram measurements (duration, input and output tokens, exemplars linked),
    all prepared beforehand. On SDK 1.14+ with its own tracing, just the three measurements: the
    span is the SDK's. What anthropic-otel costs beyond this is its own work (reading the call)."""
    telemetry = one_call_telemetry()
    tracer = TRACER_PROVIDER.get_tracer("floor")
    # The very instruments anthropic-otel records on (same names, units and buckets).
    instruments = Instruments.of(MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("floor"))
    duration, tokens = instruments.duration, instruments.token_usage
    ok = Status(StatusCode.OK)

    def request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if sdk_span_provider(instance) is not None:
            result = wrapped(*args, **kwargs)
            context = None
        else:
            span = tracer.start_span(telemetry["name"], kind=SpanKind.CLIENT, attributes=telemetry["start"])
            context = trace.set_span_in_context(span)
            token = otel_context.attach(context)
            try:
                result = wrapped(*args, **kwargs)
            finally:
                otel_context.detach(token)
            span.set_attributes(telemetry["end"])
            span.set_status(ok)
            span.end()
        duration.record(0.1, telemetry["duration"], context=context)
        for attributes in telemetry["tokens"]:
            tokens.record(100, attributes, context=context)
        return result

    wrap_function_wrapper("anthropic._base_client", "SyncAPIClient.request", request)
    try:
        yield
    finally:
        unwrap(anthropic._base_client.SyncAPIClient, "request")


TRACER_PROVIDER = TracerProvider()  # records spans, exports nothing
MEASURES = (
    "call, in-process (µs)",
    "call, loopback HTTP (µs)",
    "streamed event (µs)",
    "open stream (KiB)",
    "batch result (µs)",
)


def client_options(sdk_spans: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"max_retries": 0}
    if sdk_has_tracing() and sdk_spans:  # else no provider for the SDK: it makes no span, ours records the call
        options["open_telemetry"] = {"tracer_provider": TRACER_PROVIDER}
    return options


def measure(
    api: FakeClaudeAPI, ours: bool, sdk_spans: bool, calls: int, streams: int, *, quick: bool = False
) -> dict[str, float]:
    """Every measure of one scenario; `quick` also shrinks the memory and batch measures tenfold."""
    options = client_options(sdk_spans)
    with instrumented("ours" if ours else "bare"):
        local = in_process_client(**options)
        remote = anthropic.Anthropic(api_key="sk-bench", base_url=api.base_url, **options)
        call_in_process(local, 20)  # warm-up
        per_call = call_in_process(local, calls)
        per_stream = stream_in_process(local, streams)
        return {
            MEASURES[0]: per_call * 1e6,
            MEASURES[1]: call_over_http(api, remote, max(calls // 4, 50)) * 1e6,
            # the stream beyond one call's work, per event
            MEASURES[2]: (per_stream - per_call) / EVENTS * 1e6,
            MEASURES[3]: memory_per_open_stream(local, OPEN_STREAMS // 10 if quick else OPEN_STREAMS) / 1024,
            MEASURES[4]: batch_result(api, remote, BATCH_RESULTS // 10 if quick else BATCH_RESULTS) * 1e6,
        }


def measure_floor(sdk_spans: bool, calls: int) -> float:
    """µs per in-process call with only the OpenTelemetry calls of `floor`."""
    with instrumented("floor"):
        local = in_process_client(**client_options(sdk_spans))
        call_in_process(local, 20)  # warm-up
        return call_in_process(local, calls) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: 200 calls, 3 streams, 1 round, a tenth of the open streams and batch results",
    )
    args = parser.parse_args()
    if args.quick:
        args.calls, args.streams, args.rounds = 200, 3, 1
    scenarios = {"bare SDK": (False, False), "anthropic-otel": (True, False)}
    if sdk_has_tracing():
        scenarios.update({"SDK's own tracing": (False, True), "SDK's tracing + anthropic-otel": (True, True)})
    # The floor of each path: (label, the SDK's spans on, bare scenario, anthropic-otel scenario).
    floors = [("bare SDK (span and 3 histograms)", False, "bare SDK", "anthropic-otel")]
    if sdk_has_tracing():
        floors.append(("SDK's own tracing (3 histograms)", True, "SDK's own tracing", "SDK's tracing + anthropic-otel"))
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in scenarios}
    floor_samples: dict[str, list[float]] = {label: [] for label, *_ in floors}
    with FakeClaudeAPI() as api:
        for _ in range(args.rounds):
            for name, (ours, sdk_spans) in scenarios.items():
                samples[name].append(measure(api, ours, sdk_spans, args.calls, args.streams, quick=args.quick))
            for label, sdk_spans, *_ in floors:
                floor_samples[label].append(measure_floor(sdk_spans, args.calls))
    median = {name: {m: statistics.median(s[m] for s in runs) for m in MEASURES} for name, runs in samples.items()}
    print(f"anthropic {anthropic.__version__}; CPU time, median of {args.rounds} rounds; ratio = scenario / bare SDK\n")
    names = list(scenarios)
    print("| measure | " + " | ".join(names) + " | anthropic-otel adds |")
    print("|---|" + "---|" * (len(names) + 1))
    bare = median["bare SDK"]
    for m in MEASURES:
        cells = [
            f"{median[n][m]:.2f} (x{median[n][m] / bare[m]:.2f})" if bare[m] else f"{median[n][m]:.2f}" for n in names
        ]
        added = median["anthropic-otel"][m] - bare[m]
        if sdk_has_tracing():
            added_sdk = median["SDK's tracing + anthropic-otel"][m] - median["SDK's own tracing"][m]
            extra = f"{added:+.2f}; on the SDK's span {added_sdk:+.2f}"
        else:
            extra = f"{added:+.2f}"
        print(f"| {m} | " + " | ".join(cells) + f" | {extra} |")
    print("\nA call, in-process, against the OpenTelemetry SDK's own work for the same telemetry (`floor`):\n")
    print("| on top of | OpenTelemetry calls alone add (µs) | anthropic-otel adds (µs) | beyond them (µs) |")
    print("|---|---|---|---|")
    call = MEASURES[0]
    for label, _, base_name, ours_name in floors:
        base = median[base_name][call]
        with_ours = median[ours_name][call] - base
        alone = statistics.median(floor_samples[label]) - base
        print(f"| {label} | {alone:+.1f} | {with_ours:+.1f} | {with_ours - alone:+.1f} |")


if __name__ == "__main__":
    main()
