"""Streams end their span exactly once, with usage and time to first token, however they end."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, Callable

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from anthropic_otel.testing import FakeClaudeAPI, Fault, MessageReply, ToolUse
from tests.conftest import ClientFactory, metric_points, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 25, "output_tokens": 9, "cache_read_input_tokens": 5}
TEXT = "one two three four five six seven eight nine"


def create_kwargs(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": user_message(), **extra}


def the_span(exporter: InMemorySpanExporter) -> Any:
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["anthropic.messages.create"]
    return spans[0]


def tokens(reader: InMemoryMetricReader) -> dict[str, float]:
    return {p.attributes["gen_ai.token.type"]: p.sum for p in metric_points(reader, "gen_ai.client.token.usage")}


def assert_complete(span: Any) -> None:
    assert span.status.status_code is StatusCode.OK
    assert span.attributes["anthropic.stream.completed"] is True
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.input_tokens"] == 30
    assert span.attributes["gen_ai.usage.output_tokens"] == 9
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert span.attributes["anthropic.request.id"].startswith("req_")


SYNC_AND_ASYNC = pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])


def read_stream(make_client: ClientFactory, async_: bool, read: Callable[[Any], Any]) -> tuple[Any, Any]:
    """`(stream, read(stream))` of a `create(stream=True)` call, sync, or async with `read` a coroutine function."""
    if not async_:
        stream = make_client().messages.create(stream=True, **create_kwargs())
        return stream, read(stream)

    async def run() -> tuple[Any, Any]:
        client = make_client(async_=True)
        stream = await client.messages.create(stream=True, **create_kwargs())
        try:
            return stream, await read(stream)
        finally:
            await client.close()

    return asyncio.run(run())


async def _all_types(stream: Any) -> list[str]:
    return [event.type async for event in stream]


@SYNC_AND_ASYNC
def test_create_stream_read_to_the_end(
    async_: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    read = _all_types if async_ else (lambda stream: [event.type for event in stream])
    stream, events = read_stream(make_client, async_, read)
    assert events[0] == "message_start"
    assert events[-1] == "message_stop"
    span = the_span(span_exporter)
    assert_complete(span)
    assert span.attributes["anthropic.request.id"] == stream.response.headers["request-id"]

    assert tokens(metric_reader) == {"input": 30, "output": 9}
    (ttft,) = metric_points(metric_reader, "gen_ai.client.operation.time_to_first_chunk")
    assert ttft.count == 1
    assert ttft.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])


@SYNC_AND_ASYNC
def test_stream_helper_text_stream(
    async_: bool, api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    if async_:

        async def read() -> str:
            client = make_client(async_=True)
            async with client.messages.stream(**create_kwargs()) as stream:
                text = "".join([chunk async for chunk in stream.text_stream])
            await client.close()
            return text

        text = asyncio.run(read())
    else:
        with make_client().messages.stream(**create_kwargs()) as stream:
            text = "".join(stream.text_stream)
    assert text == TEXT
    assert_complete(the_span(span_exporter))


def test_stream_helper_get_final_message(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    with make_client().messages.stream(**create_kwargs()) as stream:
        message = stream.get_final_message()
    assert message.usage.output_tokens == 9
    span = the_span(span_exporter)
    assert_complete(span)
    assert span.attributes["gen_ai.response.id"] == message.id


def test_beta_stream_helper_until_done(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    with make_client().beta.messages.stream(**create_kwargs()) as stream:
        stream.until_done()
    assert_complete(the_span(span_exporter))


def test_with_streaming_response_stream_ends_when_read(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    with make_client().messages.with_streaming_response.create(stream=True, **create_kwargs()) as response:
        assert span_exporter.get_finished_spans() == ()
        events = [event.type for event in response.parse()]
    assert events[-1] == "message_stop"
    span = the_span(span_exporter)
    assert_complete(span)
    assert span.attributes["anthropic.request.id"] == response.headers["request-id"]
    assert tokens(metric_reader) == {"input": 30, "output": 9}


def test_snapshot_read_mid_stream_then_closed_ends_once_incomplete(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    with make_client().messages.stream(**create_kwargs()) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                assert stream.current_message_snapshot.usage.input_tokens == 25
                break
    span = the_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert tokens(metric_reader) == {"input": 30}
    (ttft,) = metric_points(metric_reader, "gen_ai.client.operation.time_to_first_chunk")
    assert ttft.count == 1


def test_tool_use_stream_is_not_parsed_mid_stream(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    tool_input = {"ticket": 47928, "deep": {"a": [1, 2]}}
    api.queue(MessageReply(text="", tool_uses=[ToolUse("lookup", tool_input)], stop_reason="tool_use"))
    with make_client().messages.stream(**create_kwargs()) as stream:
        message = stream.get_final_message()
    assert message.content[-1].input == tool_input
    assert the_span(span_exporter).attributes["gen_ai.response.finish_reasons"] == ("tool_use",)


def test_early_break_ends_the_span_once_incomplete(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    stream = make_client().messages.create(stream=True, **create_kwargs())
    for event in stream:
        if event.type == "content_block_delta":
            break
    # Broken out of, the stream can still be resumed: its call goes on until it is closed or dropped.
    assert span_exporter.get_finished_spans() == ()
    del stream, event
    gc.collect()
    span = the_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.usage.input_tokens"] == 30
    assert "gen_ai.usage.output_tokens" not in span.attributes
    assert tokens(metric_reader) == {"input": 30}


def test_dropped_without_reading_ends_at_garbage_collection(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    stream = make_client().messages.create(stream=True, **create_kwargs())
    assert span_exporter.get_finished_spans() == ()
    del stream
    gc.collect()
    span = the_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.status.status_code is StatusCode.UNSET


def test_connection_dropped_mid_stream_raises_the_same_and_marks_the_span(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(Fault.drop_mid_stream(after_events=4))
    stream = make_client().messages.create(stream=True, **create_kwargs())
    seen = []
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the SDK lets the transport's error through
        seen.extend(event.type for event in stream)
    assert seen[:1] == ["message_start"]
    span = the_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "connection_error", type(raised.value).__mro__
    assert span.attributes["anthropic.stream.completed"] is False


def test_truncated_stream_is_an_api_error_like_the_sdk_records_it(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(Fault.truncated_sse(after_events=5))
    for _ in make_client().messages.create(stream=True, **create_kwargs()):
        pass
    span = the_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "api_error"
    assert span.attributes["anthropic.stream.completed"] is False


def test_with_statement_closes_and_ends(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    with make_client().messages.create(stream=True, **create_kwargs()) as stream:
        next(iter(stream))
    span = the_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is False


async def _break_then_close(stream: Any) -> None:
    async for event in stream:
        if event.type == "content_block_delta":
            break
    await stream.close()


def _sync_break_then_close(stream: Any) -> None:
    for event in stream:
        if event.type == "content_block_delta":
            break
    stream.close()


@SYNC_AND_ASYNC
def test_broken_out_of_then_closed_ends_the_span_once_incomplete(
    async_: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    read_stream(make_client, async_, _break_then_close if async_ else _sync_break_then_close)
    span = the_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.usage.input_tokens"] == 30
    assert "gen_ai.usage.output_tokens" not in span.attributes
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert tokens(metric_reader) == {"input": 30}
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 1


async def test_200_concurrent_async_streams_each_have_their_parent(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
) -> None:
    client = make_client(async_=True)
    tracer = tracer_provider.get_tracer("test")

    async def one(index: int) -> tuple[int, str]:
        with tracer.start_as_current_span(f"job-{index}") as parent:
            await asyncio.sleep(0)
            stream = await client.messages.create(stream=True, **create_kwargs())
            async for _ in stream:
                await asyncio.sleep(0)
            return parent.get_span_context().span_id, stream.response.headers["request-id"]

    results = await asyncio.gather(*(one(index) for index in range(200)))
    calls = [span for span in span_exporter.get_finished_spans() if span.name == "anthropic.messages.create"]
    assert len(calls) == 200
    by_parent = {span.parent.span_id: span.attributes["anthropic.request.id"] for span in calls}
    assert by_parent == dict(results)
    assert all(span.attributes["anthropic.stream.completed"] is True for span in calls)


@pytest.mark.sdk_tracing_only
def test_sdk_stream_span_is_the_only_one_and_enriched(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text=TEXT, usage=USAGE))
    with make_client(sdk_tracing=True).messages.stream(**create_kwargs()) as stream:
        stream.get_final_message()
    span = the_span(span_exporter)
    assert span.instrumentation_scope.name == "com.anthropic.sdk.python"
    assert span.attributes["anthropic.stream.completed"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert tokens(metric_reader) == {"input": 30, "output": 9}


def test_a_message_delta_that_cannot_be_accumulated_gives_nothing(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    """Without its usage the SDK cannot take a `message_delta`: neither its stop reason nor a placeholder
    output count from `message_start` may be recorded, on the SDK's span or ours."""
    api.queue(Fault.delta_without_usage())
    events = [event.type for event in make_client().messages.create(stream=True, **create_kwargs())]
    assert events[-1] == "message_stop"
    span = the_span(span_exporter)
    assert span.attributes["gen_ai.response.id"].startswith("msg_")
    assert "anthropic.message.stop_reason" not in span.attributes
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert "gen_ai.usage.output_tokens" not in span.attributes
    assert "output" not in tokens(metric_reader)
