"""Opt-in content capture: off by default; on, the semconv "parts" JSON, truncated, through the user's hook.

Every test runs on both span paths where the SDK has them (our span; the SDK's own span, enriched)
and expects the same keys and values on each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Callable, Optional

import anthropic
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply, ToolUse
from tests.conftest import API_KEY, InMemoryLogExporter, user_message

MODEL = "claude-sonnet-4-6"
CONTENT_KEYS = {
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
    "anthropic.content.truncated",
}
EVENT = "gen_ai.client.inference.operation.details"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}

Instrument = Callable[..., AnthropicInstrumentor]


@pytest.fixture
def path(sdk_tracing: bool) -> str:
    """The span path of the test (conftest's `sdk_tracing`: the SDK's own span on 1.14+, then ours)."""
    return "sdk-span" if sdk_tracing else "our-span"


@pytest.fixture
def instrument_with(
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Instrument]:
    """`instrument_with(capture="span_only", **instrument_kwargs)`: instrumented with that setting."""
    instrumentor = AnthropicInstrumentor()

    def instrument(capture: Optional[str] = "span_only", **kwargs: Any) -> AnthropicInstrumentor:
        if capture is not None:
            monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", capture)
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )
        return instrumentor

    try:
        yield instrument
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def client(path: str, api: FakeClaudeAPI, tracer_provider: TracerProvider) -> Callable[..., Any]:
    """`client(async_=False)`: a client of the fake API whose span is made on `path`."""

    def make(async_: bool = False, **options: Any) -> Any:
        if path == "sdk-span":
            options.setdefault("open_telemetry", {"tracer_provider": tracer_provider})
        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        return cls(api_key=API_KEY, base_url=api.base_url, max_retries=0, **options)

    return make


def the_span(exporter: InMemorySpanExporter, path: str) -> dict[str, Any]:
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["anthropic.messages.create"]
    scope = "com.anthropic.sdk.python" if path == "sdk-span" else "anthropic_otel"
    assert spans[0].instrumentation_scope.name == scope
    return dict(spans[0].attributes or {})


def content_of(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if key in CONTENT_KEYS}


def events(exporter: InMemoryLogExporter) -> list[Any]:
    records = [getattr(data, "log_record", data) for data in exporter.get_finished_logs()]
    return [record for record in records if getattr(record, "event_name", None) == EVENT]


def plain(value: Any) -> Any:
    """An exported structured attribute (tuples) back as JSON-like lists and dicts."""
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


HELLO_IN = '[{"role":"user","parts":[{"type":"text","content":"Hello, Claude"}]}]'
HI_OUT = '[{"role":"assistant","parts":[{"type":"text","content":"Hi there"}],"finish_reason":"end_turn"}]'
HELLO_HI = {"gen_ai.input.messages": HELLO_IN, "gen_ai.output.messages": HI_OUT}


# --- off by default -------------------------------------------------------------------------------


def test_off_by_default_no_content_anywhere(
    path: str,
    api: FakeClaudeAPI,
    client: Callable[..., Any],
    instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    instrument_with(capture=None)
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(
        model=MODEL, max_tokens=64, system="Be brief.", tools=[WEATHER_TOOL], messages=user_message()
    )

    attributes = the_span(span_exporter, path)
    assert set(attributes) & CONTENT_KEYS == set()
    assert not any("Hello, Claude" in str(value) or "Hi there" in str(value) for value in attributes.values())
    assert events(log_exporter) == []


@pytest.mark.parametrize("value", ["false", "no_content", "NO_CONTENT", "0", "perhaps"])
def test_off_values_record_no_content(
    value: str, path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogExporter,
) -> None:  # fmt: skip
    instrument_with(capture=value)
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert set(the_span(span_exporter, path)) & CONTENT_KEYS == set()
    assert events(log_exporter) == []


# --- on: the parts JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "span_only", "SPAN_ONLY", "1"])
def test_plain_call_exact_json(
    value: str, path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogExporter,
) -> None:  # fmt: skip
    instrument_with(capture=value)
    api.queue(MessageReply(text="Hi there", stop_reason="end_turn"))
    message = client().messages.create(model=MODEL, max_tokens=64, messages=user_message())

    assert message.content[0].text == "Hi there"
    assert content_of(the_span(span_exporter, path)) == HELLO_HI
    assert events(log_exporter) == []  # span_only


def test_system_prompt_as_string_and_as_blocks(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(MessageReply(text="Hi there"), MessageReply(text="Hi there"))
    blocks = [
        {"type": "text", "text": "You are terse."},
        {"type": "text", "text": "Policy: long text.", "cache_control": {"type": "ephemeral"}},
    ]
    client().messages.create(model=MODEL, max_tokens=64, system="You are terse.", messages=user_message())
    first = content_of(the_span(span_exporter, path))
    span_exporter.clear()
    client().messages.create(model=MODEL, max_tokens=64, system=blocks, messages=user_message())
    second = content_of(the_span(span_exporter, path))

    assert first["gen_ai.system_instructions"] == '[{"type":"text","content":"You are terse."}]'
    assert second["gen_ai.system_instructions"] == (
        '[{"type":"text","content":"You are terse."},{"type":"text","content":"Policy: long text."}]'
    )
    assert first["gen_ai.input.messages"] == second["gen_ai.input.messages"] == HELLO_IN


def test_tool_call_and_tool_result_round_trip(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(MessageReply(tool_uses=[ToolUse("get_weather", {"city": "Paris"}, id="toolu_01")]))
    api.queue(MessageReply(text="18 °C in Paris."))
    claude = client()
    first = claude.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER_TOOL], messages=user_message("Weather?"))
    tool_span = content_of(the_span(span_exporter, path))
    span_exporter.clear()
    messages = [
        *user_message("Weather?"),
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18 °C"}]},
    ]
    claude.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER_TOOL], messages=messages)
    answer_span = content_of(the_span(span_exporter, path))

    assert tool_span == {
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Weather?"}]}]',
        "gen_ai.output.messages": (
            '[{"role":"assistant","parts":[{"type":"tool_call","id":"toolu_01","name":"get_weather",'
            '"arguments":{"city":"Paris"}}],"finish_reason":"tool_use"}]'
        ),
        "gen_ai.tool.definitions": '[{"type":"function","name":"get_weather"}]',
    }
    assert json.loads(answer_span["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "toolu_01", "name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_01", "response": [{"type": "text", "text": "18 °C"}]}
            ],
        },
    ]
    assert "18 °C in Paris." in answer_span["gen_ai.output.messages"]  # not escaped: ensure_ascii=False


def test_images_keep_only_their_type(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(MessageReply(text="A cat."))
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    content = [image, {"type": "text", "text": "What is it?"}]
    client().messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": content}])

    assert content_of(the_span(span_exporter, path))["gen_ai.input.messages"] == (
        '[{"role":"user","parts":[{"type":"anthropic_image"},{"type":"text","content":"What is it?"}]}]'
    )


def test_failed_call_records_its_input(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(ErrorReply(400))
    with pytest.raises(anthropic.BadRequestError):
        client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert content_of(the_span(span_exporter, path)) == {"gen_ai.input.messages": HELLO_IN}


# --- streams --------------------------------------------------------------------------------------

LONG_TEXT = "The quick brown fox jumps over the lazy dog, twice over."
STREAM_REPLY = MessageReply(
    text=LONG_TEXT, tool_uses=[ToolUse("get_weather", {"city": "Paris", "unit": "celsius"}, id="toolu_02")]
)
STREAM_OUT = (
    '[{"role":"assistant","parts":[{"type":"text","content":"' + LONG_TEXT + '"},'
    '{"type":"tool_call","id":"toolu_02","name":"get_weather","arguments":{"city":"Paris","unit":"celsius"}}],'
    '"finish_reason":"tool_use"}]'
)


def test_stream_text_and_tool_input_equal_the_plain_call(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(STREAM_REPLY, STREAM_REPLY, STREAM_REPLY)
    claude = client()
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": user_message()}

    claude.messages.create(**kwargs)
    plain_call = content_of(the_span(span_exporter, path))
    span_exporter.clear()
    for _ in claude.messages.create(stream=True, **kwargs):
        pass
    raw_stream = content_of(the_span(span_exporter, path))
    span_exporter.clear()
    with claude.messages.stream(**kwargs) as stream:
        text = "".join(stream.text_stream)
    helper = content_of(the_span(span_exporter, path))

    assert text == LONG_TEXT
    expected = {"gen_ai.input.messages": HELLO_IN, "gen_ai.output.messages": STREAM_OUT}
    assert plain_call == raw_stream == helper == expected


async def test_async_stream(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    instrument_with()
    api.queue(STREAM_REPLY)
    stream = await client(async_=True).messages.create(model=MODEL, max_tokens=64, messages=user_message(), stream=True)
    async for _ in stream:
        pass
    assert content_of(the_span(span_exporter, path)) == {
        "gen_ai.input.messages": HELLO_IN,
        "gen_ai.output.messages": STREAM_OUT,
    }


# --- truncation -----------------------------------------------------------------------------------


def test_values_are_cut_at_the_limit(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_CONTENT_MAX_LENGTH", "20")
    instrument_with()
    api.queue(STREAM_REPLY, STREAM_REPLY)
    claude = client()
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": user_message("x" * 5000)}
    claude.messages.create(**kwargs)
    plain_call = content_of(the_span(span_exporter, path))
    span_exporter.clear()
    for _ in claude.messages.create(stream=True, **kwargs):
        pass
    streamed = content_of(the_span(span_exporter, path))

    inputs = json.loads(plain_call["gen_ai.input.messages"])
    assert inputs[0]["parts"][0]["content"] == "x" * 20
    outputs = json.loads(plain_call["gen_ai.output.messages"])
    assert outputs[0]["parts"][0] == {"type": "text", "content": LONG_TEXT[:20]}
    # arguments whose JSON is over the limit: the start of that JSON
    assert outputs[0]["parts"][1]["arguments"] == '{"city":"Paris","uni'
    assert len(outputs[0]["parts"][1]["arguments"]) == 20
    assert plain_call["anthropic.content.truncated"] is True
    # a stream keeps no more than the limit per block; its tool JSON is the API's own text
    stream_outputs = json.loads(streamed["gen_ai.output.messages"])
    assert stream_outputs[0]["parts"][0] == {"type": "text", "content": LONG_TEXT[:20]}
    assert stream_outputs[0]["parts"][1]["arguments"] == '{"city": "Paris", "u'
    assert streamed["gen_ai.input.messages"] == plain_call["gen_ai.input.messages"]
    assert streamed["anthropic.content.truncated"] is True


def test_value_at_the_limit_is_whole(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_CONTENT_MAX_LENGTH", "13")
    instrument_with()
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message("Hello, Claude"))  # 13 characters
    assert content_of(the_span(span_exporter, path)) == HELLO_HI


# --- the hook -------------------------------------------------------------------------------------


def redact_names(content: dict[str, Any]) -> dict[str, Any]:
    """A redaction hook: replaces a name in every text part (also loaded by name from the environment)."""
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        for message in content.get(key, []):
            for part in message["parts"]:
                if part["type"] == "text":
                    part["content"] = part["content"].replace("Claude", "[NAME]")
    return content


def test_hook_redacts_before_recording(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter,
) -> None:  # fmt: skip
    seen: list[dict[str, Any]] = []

    def hook(content: dict[str, Any]) -> dict[str, Any]:
        seen.append(json.loads(json.dumps(content)))
        return redact_names(content)

    instrument_with(content_hook=hook)
    api.queue(MessageReply(text="Hi there, I am Claude"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())

    assert content_of(the_span(span_exporter, path)) == {
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Hello, [NAME]"}]}]',
        "gen_ai.output.messages": (
            '[{"role":"assistant","parts":[{"type":"text","content":"Hi there, I am [NAME]"}],'
            '"finish_reason":"end_turn"}]'
        ),
    }
    assert seen == [
        {
            "gen_ai.input.messages": json.loads(HELLO_IN),
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "Hi there, I am Claude"}],
                    "finish_reason": "end_turn",
                }
            ],
        }
    ]


def test_hook_named_in_the_environment(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_CONTENT_HOOK", "tests.test_content:redact_names")
    instrument_with()
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert content_of(the_span(span_exporter, path))["gen_ai.input.messages"] == (
        '[{"role":"user","parts":[{"type":"text","content":"Hello, [NAME]"}]}]'
    )


def test_hook_output_is_cut_to_the_limit_too(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_CONTENT_MAX_LENGTH", "16")

    def hook(content: dict[str, Any]) -> dict[str, Any]:
        return {"gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "y" * 100}]}]}

    instrument_with(content_hook=hook)
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert content_of(the_span(span_exporter, path)) == {
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"' + "y" * 16 + '"}]}]',
        "anthropic.content.truncated": True,
    }


def raising_hook(content: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("the hook saw Hello, Claude")  # its message must not reach our logs


def cyclic_hook(content: dict[str, Any]) -> dict[str, Any]:
    loop: list[Any] = []
    loop.append(loop)
    return {"gen_ai.input.messages": loop}  # cannot be bounded or serialized


@pytest.mark.parametrize("hook", [raising_hook, cyclic_hook, lambda content: None, lambda content: "not a mapping"])
def test_failing_or_dropping_hook_records_no_content_and_the_call_succeeds(
    hook: Callable[..., Any], path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogExporter, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="anthropic_otel")
    instrument_with(capture="span_and_event", content_hook=hook)
    api.queue(MessageReply(text="Hi there"), STREAM_REPLY)
    claude = client()
    message = claude.messages.create(model=MODEL, max_tokens=64, messages=user_message())
    attributes = the_span(span_exporter, path)
    span_exporter.clear()
    stream = claude.messages.create(model=MODEL, max_tokens=64, messages=user_message(), stream=True)
    stream_events = [event.type for event in stream]
    stream_attributes = the_span(span_exporter, path)

    assert type(message) is anthropic.types.Message
    assert message.content[0].text == "Hi there"
    assert stream_events[-1] == "message_stop"
    assert set(attributes) & CONTENT_KEYS == set() == set(stream_attributes) & CONTENT_KEYS
    assert attributes["gen_ai.usage.output_tokens"] > 0  # the rest of the span is intact
    assert events(log_exporter) == []
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("anthropic_otel"))
    if hook is raising_hook:
        assert "the content hook raised ValueError; no content recorded" in ours
    assert "Hello, Claude" not in ours


def test_unloadable_hook_records_nothing(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_CONTENT_HOOK", "tests.no_such_module:redact")
    instrument_with()
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert set(the_span(span_exporter, path)) & CONTENT_KEYS == set()
    assert "cannot load ANTHROPIC_OTEL_CONTENT_HOOK=tests.no_such_module:redact" in caplog.text


# --- events ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["event_only", "span_and_event"])
def test_event_carries_the_structured_content(
    value: str, path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogExporter,
) -> None:  # fmt: skip
    instrument_with(capture=value)
    api.queue(MessageReply(text="Hi there", stop_reason="end_turn"))
    message = client().messages.create(model=MODEL, max_tokens=64, system="Be brief.", messages=user_message())

    span = span_exporter.get_finished_spans()[0]
    expected_span = (
        {
            "gen_ai.system_instructions": '[{"type":"text","content":"Be brief."}]',
            "gen_ai.input.messages": HELLO_IN,
            "gen_ai.output.messages": HI_OUT,
        }
        if value == "span_and_event"
        else {}
    )
    assert content_of(the_span(span_exporter, path)) == expected_span
    [event] = events(log_exporter)
    attributes = dict(event.attributes)
    assert event.trace_id == span.context.trace_id
    assert event.span_id == span.context.span_id
    assert {key: plain(value) for key, value in attributes.items()} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.id": message.id,
        "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.usage.input_tokens": attributes["gen_ai.usage.input_tokens"],
        "gen_ai.usage.output_tokens": attributes["gen_ai.usage.output_tokens"],
        "server.address": "127.0.0.1",
        "server.port": attributes["server.port"],
        "gen_ai.system_instructions": [{"type": "text", "content": "Be brief."}],
        "gen_ai.input.messages": json.loads(HELLO_IN),
        "gen_ai.output.messages": json.loads(HI_OUT),
    }


def test_content_never_reaches_the_json_call_lines(
    path: str, api: FakeClaudeAPI, client: Callable[..., Any], instrument_with: Instrument,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_OTEL_LOG_CALLS", "true")
    caplog.set_level(logging.INFO, logger="anthropic_otel.calls")
    instrument_with(capture="span_and_event")
    api.queue(MessageReply(text="Hi there"))
    client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    lines = [record.getMessage() for record in caplog.records if record.name == "anthropic_otel.calls"]
    assert len(lines) == 1
    assert "Hello" not in lines[0]
    assert "Hi there" not in lines[0]


# --- the SDK's own capture ------------------------------------------------------------------------


@pytest.mark.sdk_tracing_only
def test_sdk_content_mode_wins_on_its_span_and_we_say_so(
    api: FakeClaudeAPI, instrument_with: Instrument, tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter, log_exporter: InMemoryLogExporter, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    instrument_with(capture="span_and_event", content_hook=redact_names)
    api.queue(MessageReply(text="Hi there"))
    options = {"tracer_provider": tracer_provider, "traces": {"content_mode": "content"}}
    claude = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0, open_telemetry=options)
    claude.messages.create(model=MODEL, max_tokens=64, messages=user_message())

    # the SDK's copy, unredacted and without finish_reason: ours is not written under it
    assert content_of(the_span(span_exporter, "sdk-span")) == {
        "gen_ai.input.messages": HELLO_IN,
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Hi there"}]}]',
    }
    [event] = events(log_exporter)  # the event is still ours, through the hook
    assert plain(event.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello, [NAME]"}]}
    ]
    assert "the SDK's own content capture is on for this client" in caplog.text
