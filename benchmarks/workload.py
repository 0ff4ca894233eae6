"""What the overhead benchmark times: the answers, the clients, and one timed piece of work each.

Answers carry what the real API sends (request id, organization, four rate limits, cache reads),
so that the per-call work is the real one. Calls go over an in-process transport (the SDK's work
and the instrumentation's, not the network's) unless said otherwise; the loopback ones and the
batch results go to the fake Claude API, whose server thread is not counted: every time here is
the calling thread's CPU time (`time.thread_time_ns`), beside wall time, so that the other
processes of a shared machine, and the server, count as little as they can.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

import anthropic
import anthropic._base_client

from anthropic_otel.testing import FakeClaudeAPI, MessageReply

# The HTTP library of the installed SDK: httpx2 from 1.0, httpx before (both may be installed:
# other packages, such as openai, bring httpx2 along).
if hasattr(anthropic._base_client, "httpx2"):
    import httpx2 as httpx
else:  # pragma: no cover - depends on the SDK version
    import httpx  # type: ignore[no-redef]

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 20, "output_tokens": 6, "cache_read_input_tokens": 1800, "cache_creation_input_tokens": 0}
TEXT = "Hello from the benchmark."
MESSAGE = {
    "id": "msg_bench",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [{"type": "text", "text": TEXT}],
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
# A long and a short stream: the difference between them, per event, is what an event costs,
# without any of the call's own work (which both have).
LONG, SHORT = 1000, 5
_EVENTS_HEADER = "x-bench-events"


@dataclass(frozen=True)
class Sample:
    """CPU and wall time per unit of work, in µs."""

    cpu: float
    wall: float


def timed(units: int, run: Callable[[], object]) -> Sample:
    """`run()`'s thread CPU time and wall time, per unit."""
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    run()
    cpu, wall = time.thread_time_ns() - cpu, time.perf_counter_ns() - wall
    return Sample(cpu / units / 1000, wall / units / 1000)


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
    """A client whose requests are answered in process: a message, or a stream of the events asked for."""
    json_body = json.dumps(MESSAGE).encode()
    streams = {str(events): sse(events) for events in (LONG, SHORT)}
    stream_headers = {**HEADERS, "content-type": "text/event-stream"}

    def handler(request: Any) -> Any:
        events = request.headers.get(_EVENTS_HEADER)
        if events is None:
            return httpx.Response(200, headers=HEADERS, content=json_body)
        return httpx.Response(200, headers=stream_headers, content=streams[events])

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    return anthropic.Anthropic(api_key="sk-bench", base_url="http://bench.local", http_client=http_client, **options)


def loopback_client(api: FakeClaudeAPI, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-bench", base_url=api.base_url, **options)


def calls(client: anthropic.Anthropic, count: int) -> Sample:
    """`count` non-streaming `messages.create` calls."""
    create = client.messages.create

    def run() -> None:
        for _ in range(count):
            create(**ASK)

    return timed(count, run)


def read_stream(client: anthropic.Anthropic, events: int = SHORT) -> None:
    """One stream of `events` events, `create(stream=True)`, read to its end."""
    for _ in client.messages.create(stream=True, extra_headers={_EVENTS_HEADER: str(events)}, **ASK):
        pass


def read_managed_stream(client: anthropic.Anthropic, events: int = SHORT) -> None:
    """One stream of `events` events through `messages.stream()`, whose manager accumulates the
    message as it goes (heavier per event, and wrapped by the peers on its own)."""
    with client.messages.stream(extra_headers={_EVENTS_HEADER: str(events)}, **ASK) as stream:
        for _ in stream:
            pass


def per_event(client: anthropic.Anthropic, count: int, read: Callable[..., None] = read_stream) -> Sample:
    """What one streamed event costs: the fastest of `count` long streams read to their end, less
    the fastest of `count` short ones, per event of difference. The fastest, since a stream is long
    enough (tens of milliseconds) for a burst of the machine's other work to land in one of them."""
    long = [timed(1, lambda: read(client, LONG)) for _ in range(count)]
    short = [timed(1, lambda: read(client, SHORT)) for _ in range(count)]
    return Sample(
        (min(s.cpu for s in long) - min(s.cpu for s in short)) / (LONG - SHORT),
        (min(s.wall for s in long) - min(s.wall for s in short)) / (LONG - SHORT),
    )


def loopback_calls(api: FakeClaudeAPI, client: anthropic.Anthropic, count: int) -> Sample:
    """`count` calls over loopback HTTP to the fake API (its server thread not counted)."""
    api.queue(*[MessageReply(text=TEXT, usage=USAGE) for _ in range(count)])
    return calls(client, count)


def batch_results(api: FakeClaudeAPI, client: anthropic.Anthropic, count: int) -> Sample:
    """Per result of a Message Batch of `count` succeeded results, read through `batches.results()`."""
    batch_id = api.add_synthetic_batch(count)
    return timed(count, lambda: sum(1 for _ in client.messages.batches.results(batch_id)))


def open_streams(client: anthropic.Anthropic, count: int, left_open: Callable[[], int]) -> tuple[float, int]:
    """Bytes an open stream holds (first event read, not closed), averaged over `count`; then how
    many spans `left_open()` counts once half of them are closed and the other half dropped."""
    headers = {_EVENTS_HEADER: str(LONG)}
    gc.collect()
    open_before = left_open()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = []
    for _ in range(count):
        stream = client.messages.create(stream=True, extra_headers=headers, **ASK)
        next(iter(stream))
        held.append(stream)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for stream in held[: count // 2]:
        stream.close()
    del held, stream
    gc.collect()
    return (after - before) / count, left_open() - open_before
