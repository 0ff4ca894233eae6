"""Fuzzing: whatever the API answers, the instrumentation never raises into the app, ends every span
and records no negative or non-numeric metric value.

Answers come from an in-process transport, so the real SDK parses them: SSE event sequences
(reordered, missing, duplicated, unknown event types, absurd usage values, huge strings) and
random JSON bodies for non-streamed calls. Each body is run bare first; instrumented, the app
must see the same result or the same exception type.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from tests.conftest import sdk_httpx as httpx

# The SDK builds models without validation: absurd values make pydantic warn when they are dumped.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

MODEL = "claude-sonnet-4-6"
ASK = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"request-id": "req_fuzz000000000000000001"}
# Derandomized, so that CI is reproducible; `ANTHROPIC_OTEL_FUZZ_RANDOM=1` explores new examples
# (as many as `ANTHROPIC_OTEL_FUZZ_EXAMPLES`).
FUZZ = settings(
    max_examples=int(os.environ.get("ANTHROPIC_OTEL_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    derandomize=not os.environ.get("ANTHROPIC_OTEL_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- strategies --------------------------------------------------------------------------------

huge_strings = st.integers(10_000, 300_000).map(lambda n: "x" * n)
odd_strings = st.one_of(st.text(max_size=20), huge_strings, st.sampled_from(["", "\u0000", "é\U0001f600", "NaN"]))
absurd_numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.sampled_from([-1, 0, 2**63, -(2**63), 10**30, 1.5, -0.5, float("nan"), float("inf"), -float("inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
)
absurd_values = st.one_of(absurd_numbers, odd_strings, st.none(), st.booleans(), st.just([]), st.just({"a": 1}))
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "service_tier",
    "cache_creation",
    "server_tool_use",
)
usages = st.one_of(
    st.dictionaries(st.sampled_from(USAGE_KEYS), absurd_values, max_size=len(USAGE_KEYS)),
    st.fixed_dictionaries({"input_tokens": absurd_numbers, "output_tokens": absurd_numbers}),
    absurd_values,
)


def message(usage: Any, text: str = "", model: Any = MODEL, stop_reason: Any = None) -> dict[str, Any]:
    content = [{"type": "text", "text": text}] if text else []
    return {
        "id": "msg_fuzz",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


@st.composite
def sse_events(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A plausible event sequence, then mangled: dropped, duplicated, reordered, extended."""
    text = draw(st.one_of(st.just("Hello"), odd_strings))
    events: list[tuple[str, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": message(draw(usages), model=draw(st.one_of(st.just(MODEL), odd_strings))),
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": draw(st.one_of(st.just("end_turn"), absurd_values)), "stop_sequence": None},
                "usage": draw(usages),
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    if draw(st.booleans()):
        events = [event for event in events if draw(st.booleans())]
    extras = draw(
        st.lists(
            st.one_of(
                st.sampled_from(events or [("ping", {"type": "ping"})]),
                st.just(("ping", {"type": "ping"})),
                st.tuples(
                    st.sampled_from(["mystery", "content_block_delta", "message_delta"]), st.just({"type": "mystery"})
                ),
                st.just(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
                st.tuples(
                    st.just("message_delta"),
                    st.builds(lambda u: {"type": "message_delta", "delta": {}, "usage": u}, usages),
                ),
                st.just(("content_block_delta", {"type": "content_block_delta", "index": 7, "delta": {"type": "x"}})),
                st.just(("message_start", {"type": "message_start", "message": {}})),
            ),
            max_size=4,
        )
    )
    for extra in extras:
        events.insert(draw(st.integers(0, len(events))), extra)
    if draw(st.booleans()):
        events = draw(st.permutations(events))
    return events


def sse_body(events: list[tuple[str, Any]], garbage: bool) -> bytes:
    chunks = [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events]
    if garbage:
        chunks.insert(len(chunks) // 2, "event: content_block_delta\ndata: {not json\n\n")
    return "".join(chunks).encode()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), absurd_numbers, st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """A Message with mangled fields, an error body, or any JSON at all."""
    kind = draw(st.sampled_from(["message", "mangled", "any"]))
    if kind == "any":
        return json.dumps(draw(json_values)).encode()
    body = message(draw(usages), text=draw(st.one_of(st.just("hi"), odd_strings)), stop_reason="end_turn")
    if kind == "mangled":
        for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=3, unique=True)):
            if draw(st.booleans()):
                del body[key]
            else:
                body[key] = draw(json_values)
    return json.dumps(body).encode()


# -- running -----------------------------------------------------------------------------------


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.instrumentor = AnthropicInstrumentor()
        self.instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[self.metrics])
        )

    def close(self) -> None:
        self.instrumentor.uninstrument()

    def metric_values(self) -> Iterator[tuple[str, Any]]:
        data = self.metrics.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric.data.data_points:
                        for name in ("value", "sum", "count", "min", "max"):
                            if hasattr(point, name):
                                yield f"{metric.name}.{name}", getattr(point, name)


def client_for(status: int, body: bytes, content_type: str) -> anthropic.Anthropic:
    def handler(request: Any) -> Any:
        return httpx.Response(status, headers={**HEADERS, "content-type": content_type}, content=body)

    return anthropic.Anthropic(
        api_key="sk-fuzz",
        base_url="http://fuzz.local",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def async_client_for(status: int, body: bytes, content_type: str) -> anthropic.AsyncAnthropic:
    def handler(request: Any) -> Any:
        return httpx.Response(status, headers={**HEADERS, "content-type": content_type}, content=body)

    return anthropic.AsyncAnthropic(
        api_key="sk-fuzz",
        base_url="http://fuzz.local",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("returned", repr(call()))
    except Exception as error:
        return ("raised", type(error))


def check(call: Any, hypothesis_event: bool = True) -> None:
    """Run `call` bare, then instrumented: same outcome, one ended span, sane metric values."""
    bare = outcome(call)
    if hypothesis_event:  # the outcome mix, for `--hypothesis-show-statistics`
        event(f"bare {bare[0]}" if bare[0] == "returned" else f"bare raised {bare[1].__name__}")
    telemetry = Telemetry()
    try:
        instrumented = outcome(call)
    finally:
        telemetry.close()
    assert instrumented == bare
    spans = telemetry.spans.get_finished_spans()
    assert len(spans) == 1
    assert spans[0].end_time is not None
    for name, value in telemetry.metric_values():
        assert isinstance(value, (int, float)), (name, value)
        assert not isinstance(value, bool), (name, value)
        assert math.isfinite(value), (name, value)
        assert value >= 0, (name, value)


@FUZZ
@given(events=sse_events(), garbage=st.booleans(), stop_after=st.one_of(st.none(), st.integers(0, 5)))
def test_streams_of_any_events(events: list[tuple[str, Any]], garbage: bool, stop_after: Any) -> None:
    body = sse_body(events, garbage)

    def consume() -> Any:
        stream = client_for(200, body, "text/event-stream").messages.create(stream=True, **ASK)
        seen = []
        try:
            for event in stream:
                seen.append(event.type)
                if stop_after is not None and len(seen) > stop_after:
                    break
        finally:
            stream.close()
        return seen

    check(consume)


@FUZZ
@given(events=sse_events(), garbage=st.booleans(), stop_after=st.one_of(st.none(), st.integers(0, 5)))
def test_async_streams_of_any_events(events: list[tuple[str, Any]], garbage: bool, stop_after: Any) -> None:
    body = sse_body(events, garbage)

    async def consume() -> Any:
        stream = await async_client_for(200, body, "text/event-stream").messages.create(stream=True, **ASK)
        seen = []
        try:
            async for event in stream:
                seen.append(event.type)
                if stop_after is not None and len(seen) > stop_after:
                    break
        finally:
            await stream.close()
        return seen

    check(lambda: asyncio.run(consume()))


@FUZZ
@given(events=sse_events())
def test_stream_helper_with_any_events(events: list[tuple[str, Any]]) -> None:
    body = sse_body(events, garbage=False)

    def consume() -> Any:
        with client_for(200, body, "text/event-stream").messages.stream(**ASK) as stream:
            return stream.get_final_message().model_dump()

    check(consume)


@FUZZ
@given(body=json_bodies(), status=st.sampled_from([200, 200, 200, 400, 429, 500, 529]))
def test_any_json_body(body: bytes, status: int) -> None:
    def call() -> Any:
        return client_for(status, body, "application/json").messages.create(**ASK).model_dump()

    check(call)


@pytest.mark.parametrize("value", [-5, 10**30, "12", None, float("nan"), -0.5, [], {"x": 1}])
def test_absurd_usage_in_a_plain_message(value: Any) -> None:
    body = json.dumps(message({"input_tokens": value, "output_tokens": value}, text="hi")).encode()
    check(lambda: client_for(200, body, "application/json").messages.create(**ASK).model_dump(), hypothesis_event=False)
