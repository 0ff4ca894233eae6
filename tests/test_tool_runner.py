"""The tool runner: one `invoke_agent` span, its model calls and one `execute_tool` span per tool run.

On SDKs without their own tracing (0.68 to 1.13) anthropic-otel makes these spans, named and
attributed as the SDK 2.13 makes them; on 1.14+ the SDK's are the only ones.
"""

from __future__ import annotations

import gc
import inspect
import math
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel import conversation
from anthropic_otel.testing import FakeClaudeAPI, MessageReply, ToolUse
from tests.conftest import SDK_TRACES, ClientFactory, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"
SCOPE = "com.anthropic.sdk.python" if SDK_TRACES else "anthropic_otel"


@anthropic.beta_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"sunny in {city}"


@anthropic.beta_tool
def get_time(city: str) -> str:
    """The local time in a city."""
    if city == "Atlantis":
        raise ValueError("no such city")
    return f"12:00 in {city}"


@anthropic.beta_async_tool
async def get_weather_async(city: str) -> str:
    """The current weather in a city."""
    return f"sunny in {city}"


@anthropic.beta_async_tool
async def get_time_async(city: str) -> str:
    """The local time in a city."""
    return f"12:00 in {city}"


def queue_two_tool_calls(api: FakeClaudeAPI, weather: str, time: str, time_city: str = "Paris") -> None:
    api.queue(
        MessageReply(tool_uses=[ToolUse(weather, {"city": "Paris"}, id="toolu_01weather")]),
        MessageReply(tool_uses=[ToolUse(time, {"city": time_city}, id="toolu_02time")]),
        MessageReply(text="Sunny, and it is noon."),
    )


def check_spans(spans: tuple[ReadableSpan, ...], weather: str, time: str, caller: Any = None) -> None:
    """One runner span (child of `caller`), three model calls and two tool runs, all its children."""
    assert [span.name for span in spans] == [
        "anthropic.messages.create",
        f"anthropic.custom_tool_use {weather}",
        "anthropic.messages.create",
        f"anthropic.custom_tool_use {time}",
        "anthropic.messages.create",
        "anthropic.messages.tool_runner",
    ]
    assert {span.instrumentation_scope.name for span in spans} == {SCOPE}
    runner = spans[-1]
    assert runner.kind is SpanKind.INTERNAL
    assert runner.status.status_code is StatusCode.OK
    calls = [span for span in spans if span.name == "anthropic.messages.create"]
    totals = {key: runner.attributes[key] for key in runner.attributes if key.startswith("gen_ai.usage.")}
    assert totals == {  # semconv's usage attributes on the agent span: the sums over its model calls
        "gen_ai.usage.input_tokens": sum(span.attributes["gen_ai.usage.input_tokens"] for span in calls),
        "gen_ai.usage.output_tokens": sum(span.attributes["gen_ai.usage.output_tokens"] for span in calls),
    }
    assert math.isclose(runner.attributes["anthropic.cost.usd"], sum(s.attributes["anthropic.cost.usd"] for s in calls))
    assert {key: value for key, value in runner.attributes.items() if key not in totals} == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "anthropic.cost.usd": runner.attributes["anthropic.cost.usd"],
    }
    assert runner.parent == (caller.get_span_context() if caller is not None else None)
    assert all(span.parent.span_id == runner.context.span_id for span in spans[:-1])
    assert all(span.context.trace_id == runner.context.trace_id for span in spans)
    assert all(span.kind is SpanKind.CLIENT for span in calls)
    assert [span.attributes["anthropic.message.stop_reason"] for span in calls] == ["tool_use", "tool_use", "end_turn"]
    for span, (name, call_id, description) in zip(
        (spans[1], spans[3]),
        (
            (weather, "toolu_01weather", "The current weather in a city."),
            (time, "toolu_02time", "The local time in a city."),
        ),
    ):
        assert span.kind is SpanKind.INTERNAL
        assert dict(span.attributes) == {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.tool.name": name,
            "gen_ai.tool.description": description,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        }
        assert span.status.status_code is StatusCode.OK


def client_for(make_client: ClientFactory, **options: Any) -> Any:
    # SDK 1.14+: the SDK's own tracing is on, so its spans are the ones to see (and ours must not be added).
    return make_client(sdk_tracing=SDK_TRACES, **options)


def test_two_tool_calls_one_runner_two_tools_three_model_calls(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, tracer_provider: TracerProvider
) -> None:
    queue_two_tool_calls(api, "get_weather", "get_time")
    client = client_for(make_client)
    with trace.get_tracer("app", tracer_provider=tracer_provider).start_as_current_span("handle-request") as caller:
        runner = client.beta.messages.tool_runner(
            model=MODEL,
            max_tokens=64,
            messages=user_message("Weather and time in Paris?"),
            tools=[get_weather, get_time],
        )
        final = runner.until_done()

    assert final.content[0].text == "Sunny, and it is noon."
    check_spans(span_exporter.get_finished_spans()[:-1], "get_weather", "get_time", caller)


async def test_async_runner(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    queue_two_tool_calls(api, "get_weather_async", "get_time_async")
    client = client_for(make_client, async_=True)
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=64,
        messages=user_message("Weather and time in Paris?"),
        tools=[get_weather_async, get_time_async],
    )
    messages = [message async for message in runner]

    assert len(messages) == 3
    check_spans(span_exporter.get_finished_spans(), "get_weather_async", "get_time_async")


def test_failing_tool_and_conversation(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    queue_two_tool_calls(api, "get_weather", "get_time", time_city="Atlantis")
    client = client_for(make_client)
    with conversation("ticket-47928"):
        client.beta.messages.tool_runner(
            model=MODEL, max_tokens=64, messages=user_message("Weather and time?"), tools=[get_weather, get_time]
        ).until_done()

    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    failed = spans["anthropic.custom_tool_use get_time"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "tool_error"
    assert spans["anthropic.custom_tool_use get_weather"].status.status_code is StatusCode.OK
    if not SDK_TRACES:  # the SDK 2.13 takes the conversation from the client's options only
        assert spans["anthropic.messages.tool_runner"].attributes["gen_ai.conversation.id"] == "ticket-47928"
        assert failed.attributes["gen_ai.conversation.id"] == "ticket-47928"
    assert spans["anthropic.messages.tool_runner"].status.status_code is StatusCode.OK


def test_runner_left_early_ends_its_span_once(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    queue_two_tool_calls(api, "get_weather", "get_time")
    client = client_for(make_client)
    runner = client.beta.messages.tool_runner(
        model=MODEL, max_tokens=64, messages=user_message("Weather?"), tools=[get_weather, get_time]
    )
    for _ in runner:
        break
    del runner
    gc.collect()
    runners = [span for span in span_exporter.get_finished_spans() if span.name == "anthropic.messages.tool_runner"]
    assert len(runners) == 1
    assert runners[0].status.status_code is StatusCode.UNSET
    assert [span.name for span in span_exporter.get_finished_spans()] == [
        "anthropic.messages.create",
        "anthropic.messages.tool_runner",
    ]


def test_the_runners_loop_is_a_generator_the_sdk_can_inspect_and_close(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    """The SDK keeps its loop in `runner._iterator` and treats it as its own generator (SDK 2.x's
    `close()` asks `inspect.getgeneratorstate` and closes it): instrumented, it is one still."""
    queue_two_tool_calls(api, "get_weather", "get_time")
    runner = client_for(make_client).beta.messages.tool_runner(
        model=MODEL, max_tokens=64, messages=user_message("Weather?"), tools=[get_weather, get_time]
    )
    assert inspect.getgeneratorstate(runner._iterator) == inspect.GEN_CREATED
    assert next(runner).stop_reason == "tool_use"
    assert inspect.getgeneratorstate(runner._iterator) == inspect.GEN_SUSPENDED
    if hasattr(runner, "close"):
        runner.close()
    else:  # SDKs before the runner's close() end the loop the same way when it is closed
        runner._iterator.close()
    assert inspect.getgeneratorstate(runner._iterator) == inspect.GEN_CLOSED
    assert list(runner) == []
    runners = [span for span in span_exporter.get_finished_spans() if span.name == "anthropic.messages.tool_runner"]
    assert [span.status.status_code for span in runners] == [StatusCode.UNSET]


async def test_the_async_runners_loop_is_an_async_generator_the_sdk_can_inspect_and_close(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    queue_two_tool_calls(api, "get_weather_async", "get_time_async")
    runner = client_for(make_client, async_=True).beta.messages.tool_runner(
        model=MODEL, max_tokens=64, messages=user_message("Weather?"), tools=[get_weather_async, get_time_async]
    )
    assert inspect.isasyncgen(runner._iterator)
    assert (await runner.__anext__()).stop_reason == "tool_use"
    assert runner._iterator.ag_running is False
    if hasattr(runner, "close"):
        await runner.close()
    else:
        await runner._iterator.aclose()
    assert [message async for message in runner] == []
    runners = [span for span in span_exporter.get_finished_spans() if span.name == "anthropic.messages.tool_runner"]
    assert [span.status.status_code for span in runners] == [StatusCode.UNSET]
