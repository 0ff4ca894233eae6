"""Overhead of the instrumentation, as ratios to the bare SDK measured in the same run.

An in-process transport answers every request with canned bytes, so the numbers are the SDK's
and ours, not the network's. Span export is excluded (a TracerProvider without processors still
records spans); metrics are aggregated by an SDK MeterProvider.

    .venv/bin/python benchmarks/bench_overhead.py [--calls 2000] [--streams 40] [--rounds 5]

Prints a table: per non-streaming call (µs), per 1,000-event stream (ms), per event (µs), and
the ratio of each to the bare SDK. On SDK 1.14+ it also measures the SDK's own tracing alone
and with our enrichment on top.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import anthropic
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.sdk import sdk_has_tracing

try:  # SDK 1.0+ uses httpx2; 0.x uses httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the SDK version
    import httpx  # type: ignore[no-redef]

MESSAGE = {
    "id": "msg_bench",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6",
    "content": [{"type": "text", "text": "Hello from the benchmark."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 20, "output_tokens": 6, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
}
HEADERS = {"content-type": "application/json", "request-id": "req_benchmark0000000000000001"}


def sse(events: int) -> bytes:
    """A stream of exactly `events` events: start, block start, deltas, block stop, delta, stop."""
    start = {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}}
    parts = [
        ("message_start", start),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "word "}}
    parts += [("content_block_delta", delta)] * (events - 5)
    parts += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": events - 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in parts).encode()


def make_client(stream_body: bytes, **options: Any) -> anthropic.Anthropic:
    json_body = json.dumps(MESSAGE).encode()

    def handler(request: Any) -> Any:
        if b'"stream":true' in request.content or b'"stream": true' in request.content:
            return httpx.Response(200, headers={**HEADERS, "content-type": "text/event-stream"}, content=stream_body)
        return httpx.Response(200, headers=HEADERS, content=json_body)

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    return anthropic.Anthropic(
        api_key="sk-bench", base_url="http://bench.local", http_client=http_client, max_retries=0, **options
    )


ASK = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


def time_calls(client: anthropic.Anthropic, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        client.messages.create(**ASK)
    return (time.perf_counter() - start) / calls


def time_streams(client: anthropic.Anthropic, streams: int) -> float:
    start = time.perf_counter()
    for _ in range(streams):
        for _ in client.messages.create(stream=True, **ASK):
            pass
    return (time.perf_counter() - start) / streams


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=40)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    body = sse(args.events)
    sdk_tracing = sdk_has_tracing()
    tracer_provider = TracerProvider()  # records spans, exports nothing
    instrumentor = AnthropicInstrumentor()

    def measure(instrumented: bool, sdk_spans: bool) -> tuple[float, float]:
        if instrumented:
            meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
            instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        options: dict[str, Any] = {}
        if sdk_tracing:
            options["open_telemetry"] = {"tracer_provider": tracer_provider} if sdk_spans else False
        client = make_client(body, **options)
        try:
            time_calls(client, 20)  # warm-up
            return time_calls(client, args.calls), time_streams(client, args.streams)
        finally:
            if instrumented:
                instrumentor.uninstrument()

    scenarios = [("bare SDK", False, False), ("anthropic-otel (our span + metrics)", True, False)]
    if sdk_tracing:
        scenarios += [("SDK's own tracing", False, True), ("SDK's own tracing + anthropic-otel", True, True)]
    # Interleaved rounds, so that a noisy neighbour slows every scenario alike; medians reported.
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in scenarios}
    for _ in range(args.rounds):
        for name, instrumented, sdk_spans in scenarios:
            samples[name].append(measure(instrumented, sdk_spans))
    rows = [
        (name, statistics.median(c for c, _ in samples[name]), statistics.median(s for _, s in samples[name]))
        for name, _, _ in scenarios
    ]
    bare_call, bare_stream = rows[0][1], rows[0][2]
    print(f"anthropic {anthropic.__version__}, {args.events}-event streams, median of {args.rounds} rounds\n")
    print(f"{'scenario':40} {'call µs':>9} {'ratio':>6} {'stream ms':>10} {'ratio':>6} {'+µs/event':>10}")
    for name, per_call, per_stream in rows:
        # What the stream costs beyond the bare stream and this scenario's own per-call overhead.
        per_event = (per_stream - bare_stream - (per_call - bare_call)) / args.events * 1e6
        print(
            f"{name:40} {per_call * 1e6:9.1f} {per_call / bare_call:6.3f} {per_stream * 1e3:10.2f}"
            f" {per_stream / bare_stream:6.3f} {per_event:10.3f}"
        )
    if sdk_tracing:
        added_call = (rows[3][1] - rows[2][1]) * 1e6
        added_event = (rows[3][2] - rows[2][2] - (rows[3][1] - rows[2][1])) / args.events * 1e6
        print(f"\nanthropic-otel on top of the SDK's own tracing: +{added_call:.1f} µs per call,", end=" ")
        print(f"{added_event:+.3f} µs per event")


if __name__ == "__main__":
    main()
