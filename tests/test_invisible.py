"""The application cannot tell that it is instrumented.

What it gets is the very object the SDK made (`type()`, `isinstance`, `copy`, `pickle` behave as
bare); a stream peeked at, or broken out of and resumed, is recorded whole; one `route()` object
serves concurrent tasks and threads; a cancelled call is no API error; and nothing the SDK sends
changes because of us.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import pickle
import threading
import weakref
from typing import Any, Callable

import anthropic
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import anthropic_otel
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, instrumenting, metric_points, spans_named, user_message

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 25, "output_tokens": 9}
TEXT = "one two three four five six seven eight nine"


def ask(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": user_message(), **extra}


def _outcome(action: Callable[[], Any]) -> Any:
    """What the application sees of `action()`: the type of what it returned, or the error raised."""
    try:
        return ("returned", type(action()))
    except Exception as error:
        return ("raised", type(error), str(error))


def looks(result: Any) -> dict[str, Any]:
    """Everything the application can ask of a result's identity."""
    return {
        "type": type(result),
        "stream": isinstance(result, anthropic.Stream),
        "async stream": isinstance(result, anthropic.AsyncStream),
        "copy": _outcome(lambda: copy.copy(result)),
        "pickle": _outcome(lambda: pickle.dumps(result)),
    }


# What each kind of result is made by: (async, a function of the client returning the result).
RESULTS: dict[str, tuple[bool, Callable[[Any], Any]]] = {
    "stream": (False, lambda client: client.messages.create(**ask(stream=True))),
    "raw": (False, lambda client: client.messages.with_raw_response.create(**ask())),
    "raw-stream": (False, lambda client: client.messages.with_raw_response.create(**ask(stream=True))),
    "raw-stream-parsed": (False, lambda client: client.messages.with_raw_response.create(**ask(stream=True)).parse()),
    "batch-results": (
        False,
        lambda client: client.messages.batches.results(
            client.messages.batches.create(requests=[{"custom_id": "a", "params": ask()}]).id
        ),
    ),
    "async-stream": (True, lambda client: client.messages.create(**ask(stream=True))),
    "async-raw-stream": (True, lambda client: client.messages.with_raw_response.create(**ask(stream=True))),
}


def _make(kind: str, make_client: ClientFactory) -> tuple[Any, Callable[[], None]]:
    """The result of one `kind`, and how to release it (read its body, close the client)."""
    async_, make = RESULTS[kind]
    client = make_client(async_=async_)
    if not async_:
        return make(client), client.close
    loop = asyncio.new_event_loop()
    result = loop.run_until_complete(make(client))
    return result, lambda: (loop.run_until_complete(client.close()), loop.close())


@pytest.mark.parametrize("kind", list(RESULTS))
def test_the_application_gets_the_sdks_own_objects(
    kind: str,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
) -> None:
    bare, release = _make(kind, make_client)
    expected = looks(bare)
    release()
    with instrumenting(tracer_provider, meter_provider):
        instrumented, release = _make(kind, make_client)
        seen = looks(instrumented)
        release()
        del instrumented
        gc.collect()
    assert seen == expected
    if kind in ("stream", "raw-stream-parsed", "async-stream"):
        assert seen["type"] is (anthropic.AsyncStream if kind.startswith("async") else anthropic.Stream)
        assert seen["async stream" if kind.startswith("async") else "stream"] is True


def test_a_stream_peeked_at_then_read_is_recorded_whole(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrument: Any,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    stream = make_client().messages.create(**ask(stream=True))
    first = next(iter(stream))
    rest = list(stream)
    assert [first.type, rest[-1].type] == ["message_start", "message_stop"]
    assert_whole(span_exporter, metric_reader)


def test_a_stream_broken_out_of_and_resumed_is_recorded_whole(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrument: Any,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    stream = make_client().messages.create(**ask(stream=True))
    for event in stream:
        if event.type == "content_block_delta":
            break
    assert span_exporter.get_finished_spans() == ()
    kinds = [event.type for event in stream]
    assert kinds[-1] == "message_stop"
    assert_whole(span_exporter, metric_reader)


def test_an_async_stream_peeked_at_then_read_is_recorded_whole(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrument: Any,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))

    async def read() -> list[str]:
        client = make_client(async_=True)
        stream = await client.messages.create(**ask(stream=True))
        first = await stream.__aiter__().__anext__()
        async for event in stream:
            if event.type == "content_block_delta":
                break
        rest = [event.type async for event in stream]
        await client.close()
        return [first.type, *rest]

    kinds = asyncio.run(read())
    assert [kinds[0], kinds[-1]] == ["message_start", "message_stop"]
    assert_whole(span_exporter, metric_reader)


def assert_whole(span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader) -> None:
    (span,) = spans_named(span_exporter, "anthropic.messages.create")
    assert span.attributes["anthropic.stream.completed"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 9
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert span.status.status_code is StatusCode.OK
    usage = {
        p.attributes["gen_ai.token.type"]: p.sum for p in metric_points(metric_reader, "gen_ai.client.token.usage")
    }
    assert usage == {"input": 25, "output": 9}
    (ttft,) = metric_points(metric_reader, "gen_ai.client.operation.time_to_first_chunk")
    assert ttft.count == 1


TRIAGE = anthropic_otel.route("triage")
CONVERSATION = anthropic_otel.conversation("conv-shared")


def test_one_route_object_serves_concurrent_tasks_and_threads(
    api: FakeClaudeAPI, make_client: ClientFactory, instrument: Any, span_exporter: InMemorySpanExporter
) -> None:
    async def task(client: Any, index: int) -> str:
        async with TRIAGE, CONVERSATION:
            await asyncio.sleep(0.001 * (5 - index))  # interleave the scopes' exits
            message = await client.messages.create(**ask())
            await asyncio.sleep(0.001 * index)
        return str(message.id)

    async def tasks() -> list[str]:
        client = make_client(async_=True)
        try:
            return await asyncio.gather(*(task(client, index) for index in range(5)))
        finally:
            await client.close()

    assert len(asyncio.run(tasks())) == 5
    client = make_client()
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def thread() -> None:
        try:
            with TRIAGE:
                barrier.wait()
                client.messages.create(**ask())
                barrier.wait()
        except BaseException as error:  # collected, so the test sees it
            errors.append(error)

    threads = [threading.Thread(target=thread) for _ in range(5)]
    for worker in threads:
        worker.start()
    for worker in threads:
        worker.join()
    client.close()
    assert errors == []
    spans = spans_named(span_exporter, "anthropic.messages.create")
    assert [span.attributes["anthropic.route"] for span in spans] == ["triage"] * 10
    assert (
        sorted(span.attributes.get("gen_ai.conversation.id", "-") for span in spans) == ["-"] * 5 + ["conv-shared"] * 5
    )


SLOW = {"x-fake-reply": json.dumps({"delay": 5})}


def test_a_cancelled_call_is_no_api_error(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrument: Any,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    async def cancelled() -> list[str]:
        client = make_client(async_=True)
        outcomes = []
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.messages.create(**ask(extra_headers=SLOW)), 0.2)
            outcomes.append("timed out")
            task = asyncio.ensure_future(client.messages.create(**ask(extra_headers=SLOW)))
            while api.request_count < 2:  # in flight
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            outcomes.append("cancelled")
        finally:
            await client.close()
        return outcomes

    assert asyncio.run(cancelled()) == ["timed out", "cancelled"]
    spans = spans_named(span_exporter, "anthropic.messages.create")
    assert len(spans) == 2
    for span in spans:
        assert "error.type" not in span.attributes
        assert span.status.status_code is StatusCode.UNSET
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 2
    assert all("error.type" not in point.attributes for point in durations)


def _sent_headers(api: FakeClaudeAPI) -> list[dict[str, str]]:
    volatile = {"idempotency-key", "x-stainless-retry-count", "x-stainless-read-timeout", "content-length"}
    return [{k.lower(): v for k, v in request.headers.items() if k.lower() not in volatile} for request in api.requests]


@pytest.mark.sdk_tracing_only
@pytest.mark.parametrize(
    "opt_out",
    ["option", "environment", "no-op provider"],
)
def test_a_client_that_opted_out_of_tracing_gets_no_span_and_sends_what_it_sends_bare(
    opt_out: str,
    api: FakeClaudeAPI,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.trace import NoOpTracerProvider

    options: dict[str, Any] = {"open_telemetry": False}
    if opt_out == "environment":
        monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
        options = {}
    elif opt_out == "no-op provider":
        options = {"open_telemetry": {"tracer_provider": NoOpTracerProvider()}}

    def run() -> list[dict[str, str]]:
        api.reset()
        client = anthropic.Anthropic(api_key="sk-test", base_url=api.base_url, max_retries=0, **options)
        client.messages.create(**ask())
        for _ in client.messages.create(**ask(stream=True)):
            pass
        client.close()
        return _sent_headers(api)

    bare = run()
    with instrumenting(tracer_provider, meter_provider):
        instrumented = run()
    assert instrumented == bare
    assert all("traceparent" not in headers for headers in instrumented)
    # A client that is not to be traced gets no span of ours either; its calls count in the metrics.
    assert span_exporter.get_finished_spans() == ()
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 2
    tokens = metric_points(metric_reader, "gen_ai.client.token.usage")
    assert sum(point.count for point in tokens) == 4  # input and output, of both calls


def test_a_usage_too_large_to_price_loses_only_the_cost(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    instrument: Any,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text="x", usage={"input_tokens": 10**400, "output_tokens": 3}))
    message = make_client().messages.create(**ask())
    assert message.usage.input_tokens == 10**400
    (span,) = spans_named(span_exporter, "anthropic.messages.create")
    assert span.end_time is not None
    assert span.attributes["gen_ai.usage.output_tokens"] == 3
    assert "anthropic.cost.usd" not in span.attributes
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 1
    # No metric can take the count: it is left out, the output tokens are not.
    tokens = metric_points(metric_reader, "gen_ai.client.token.usage")
    assert {point.attributes["gen_ai.token.type"]: point.sum for point in tokens} == {"output": 3}


def test_a_redaction_hook_that_raises_anything_records_no_content_and_changes_nothing(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Interrupt(BaseException):
        pass

    def hook(content: Any) -> Any:
        raise Interrupt("from the hook")

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    instrumentor = anthropic_otel.AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, content_hook=hook)
    try:
        api.queue(MessageReply(text="kept", usage=USAGE))
        message = make_client().messages.create(**ask())
        events = [event.type for event in make_client().messages.create(**ask(stream=True))]
    finally:
        instrumentor.uninstrument()
    assert message.content[0].text == "kept"
    assert events[-1] == "message_stop"
    spans = spans_named(span_exporter, "anthropic.messages.create")
    assert len(spans) == 2
    assert all("gen_ai.input.messages" not in span.attributes for span in spans)


def test_a_stream_read_to_the_end_is_freed_without_the_cycle_collector(
    api: FakeClaudeAPI, make_client: ClientFactory, instrument: Any, span_exporter: InMemorySpanExporter
) -> None:
    """As bare, a stream read to its end is freed when the application lets go of it, and so is the
    call that recorded it: nothing of ours is left for a later cycle collection (a soak run found
    calls and their recorders outliving it, each holding the other)."""
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    client = make_client()
    gc.collect()
    gc.disable()
    try:
        stream = client.messages.create(**ask(stream=True))
        recorder = stream.__dict__["_iterator"].recorder
        left = {"stream": weakref.ref(stream), "recorder": weakref.ref(recorder), "call": weakref.ref(recorder.call)}
        del recorder
        assert list(stream)[-1].type == "message_stop"
        del stream
        assert {name: ref() is None for name, ref in left.items()} == {"stream": True, "recorder": True, "call": True}
    finally:
        gc.enable()
    assert len(span_exporter.get_finished_spans()) == 1
