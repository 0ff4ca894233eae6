"""The OpenAI compatibility layer: the real `openai` SDK over HTTP against the fake API's `/v1/chat/completions`."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

openai = pytest.importorskip("openai")

from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from anthropic_otel._diagnostics import CODES  # noqa: E402
from anthropic_otel._read.price_table import PriceTable  # noqa: E402
from anthropic_otel._read.pricing import cost_of  # noqa: E402
from anthropic_otel.openai_compat import DEFAULT_HOSTS, HOSTS_ENV, OpenAICompatInstrumentor  # noqa: E402
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, Fault, MessageReply, ToolUse  # noqa: E402
from anthropic_otel.testing._bodies import DEFAULT_TEXT  # noqa: E402
from tests.conftest import API_KEY, Diagnostics, call_records, diagnostic_events, metric_points  # noqa: E402
from tests.test_zero_code import console_spans  # noqa: E402

MODEL = "claude-haiku-4-5"
NAME = "anthropic.chat.completions.create"
MESSAGES = [{"role": "user", "content": "Hello, Claude"}]


@pytest.fixture
def compat(
    tracer_provider: TracerProvider, meter_provider: MeterProvider, logger_provider: LoggerProvider
) -> Iterator[OpenAICompatInstrumentor]:
    instrumentor = OpenAICompatInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        hosts=["127.0.0.1"],
    )
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


def client(api: FakeClaudeAPI, async_: bool = False, host: str = "127.0.0.1", **options: Any) -> Any:
    options.setdefault("max_retries", 0)
    port = api.base_url.rsplit(":", 1)[1]
    cls = openai.AsyncOpenAI if async_ else openai.OpenAI
    return cls(api_key=API_KEY, base_url=f"http://{host}:{port}/v1/", **options)


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [NAME]
    return spans[0]


def expected_cost(prompt: int, completion: int) -> float:
    cost = cost_of({"input_tokens": prompt, "output_tokens": completion}, MODEL, PriceTable.load_default())
    assert cost is not None
    return cost.total


def tokens(reader: InMemoryMetricReader) -> dict[str, int]:
    return {p.attributes["gen_ai.token.type"]: p.sum for p in metric_points(reader, "gen_ai.client.token.usage")}


async def create(api: FakeClaudeAPI, async_: bool, **kwargs: Any) -> Any:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", MESSAGES)
    if async_:
        return await client(api, async_=True).chat.completions.create(**kwargs)
    return client(api).chat.completions.create(**kwargs)


async def read_all(stream: Any, async_: bool) -> list[Any]:
    if async_:
        return [chunk async for chunk in stream]
    return list(stream)


# -- plain calls ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("async_", [False, True])
async def test_a_call_gets_one_span_with_the_messages_api_attributes(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: Any,
    async_: bool,
) -> None:
    completion = await create(api, async_, max_tokens=64)

    span = only_span(span_exporter)
    usage = completion.usage
    port = int(api.base_url.rsplit(":", 1)[1])
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.OK
    assert span.instrumentation_scope.name == "anthropic_otel.openai_compat"
    attributes = dict(span.attributes or {})
    assert {key: value for key, value in attributes.items() if not key.startswith("anthropic.ratelimit.")} == {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 64,
        "http.request.method": "POST",
        "http.route": "/v1/chat/completions",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.scheme": "http",
        "url.path": "/v1/chat/completions",
        "url.full": f"http://127.0.0.1:{port}/v1/chat/completions",
        "http.response.status_code": 200,
        "anthropic.request.id": api.last_headers["request-id"],
        "anthropic.organization.id": api.last_headers["anthropic-organization-id"],
        "gen_ai.response.id": completion.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
        "anthropic.cost.usd": expected_cost(usage.prompt_tokens, usage.completion_tokens),
    }
    assert attributes["anthropic.ratelimit.requests.limit"] == 50

    assert tokens(metric_reader) == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    [duration] = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert duration.count == 1
    assert dict(duration.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    cost = sum(point.value for point in metric_points(metric_reader, "anthropic.client.cost"))
    assert cost == pytest.approx(attributes["anthropic.cost.usd"])
    [record] = call_records(log_exporter)
    assert record.attributes["anthropic.request.id"] == api.last_headers["request-id"]
    assert record.attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert record.span_id == span.context.span_id


@pytest.mark.usefixtures("compat")
def test_tool_calls_finish_reason_and_the_answer_pass_through(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(tool_uses=(ToolUse("lookup", {"ticket": 47928}, id="toolu_1"),)))
    completion = client(api).chat.completions.create(model=MODEL, messages=MESSAGES)

    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert completion.choices[0].message.tool_calls[0].function.arguments == json.dumps({"ticket": 47928})
    assert only_span(span_exporter).attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)


@pytest.mark.usefixtures("compat")
def test_other_hosts_are_left_alone(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> None:
    completion = client(api, host="localhost").chat.completions.create(model=MODEL, messages=MESSAGES)
    stream = client(api, host="localhost").chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)

    assert type(stream).__name__ == "Stream"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == DEFAULT_TEXT
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert span_exporter.get_finished_spans() == ()
    assert metric_points(metric_reader, "gen_ai.client.operation.duration") == []


def test_hosts_come_from_the_environment_and_api_anthropic_com_always_counts(
    api: FakeClaudeAPI,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(HOSTS_ENV, " 127.0.0.1 , proxy.internal")
    instrumentor = OpenAICompatInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        client(api).chat.completions.create(model=MODEL, messages=MESSAGES)
        client(api, host="localhost").chat.completions.create(model=MODEL, messages=MESSAGES)  # not listed
    finally:
        instrumentor.uninstrument()
    assert only_span(span_exporter).attributes["server.address"] == "127.0.0.1"
    assert DEFAULT_HOSTS == ("api.anthropic.com",)


@pytest.mark.usefixtures("compat")
def test_raw_responses_pass_through_and_are_recorded(api: FakeClaudeAPI, span_exporter: InMemorySpanExporter) -> None:
    raw = client(api).chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)

    completion = raw.parse()
    span = only_span(span_exporter)
    assert raw.headers["request-id"] == span.attributes["anthropic.request.id"]
    assert span.attributes["gen_ai.response.id"] == completion.id
    assert span.attributes["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("async_", [False, True])
async def test_parse_is_one_span_and_its_structured_output_is_reported_dropped(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, async_: bool
) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Answer(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        answer: str

    api.queue(MessageReply(text='{"answer": "4"}'))
    openai_client = client(api, async_=async_)
    completions = openai_client.chat.completions
    if not hasattr(completions, "parse"):  # openai < 1.92: only `beta.chat.completions.parse`
        completions = openai_client.beta.chat.completions
    result = completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)
    parsed = await result if async_ else result

    assert parsed.choices[0].message.parsed == Answer(answer="4")
    span = only_span(span_exporter)
    assert span.attributes["gen_ai.output.type"] == "json"
    assert [event["anthropic.diagnostic.dropped_features"] for event in diagnostic_events(span_exporter)] == [
        ("structured_outputs",)
    ]


# -- errors and retries --------------------------------------------------------------------------


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("async_", [False, True])
async def test_an_error_passes_through_and_marks_the_span(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader, async_: bool
) -> None:
    api.queue(ErrorReply(429, message="slow down"))
    with pytest.raises(openai.RateLimitError) as raised:
        await create(api, async_)

    assert raised.value.status_code == 429
    assert "slow down" in raised.value.message
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "rate_limit_error"
    assert span.attributes["http.response.status_code"] == 429
    assert span.attributes["anthropic.request.id"] == api.last_headers["request-id"]
    [duration] = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "rate_limit_error"
    assert metric_points(metric_reader, "gen_ai.client.token.usage") == []


@pytest.mark.usefixtures("compat")
def test_a_retried_call_is_one_span_with_its_resend_count(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> None:
    api.queue(ErrorReply(529, headers={"retry-after-ms": "1"}), MessageReply())
    client(api, max_retries=1).chat.completions.create(model=MODEL, messages=MESSAGES)

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.OK
    assert span.attributes["http.request.resend_count"] == 1
    assert span.attributes["http.response.status_code"] == 200
    [retries] = metric_points(metric_reader, "anthropic.client.retries")
    assert retries.value == 1


# -- streams -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("async_", [False, True])
async def test_a_read_stream_ends_its_span_once_with_usage_and_time_to_first_chunk(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader, async_: bool
) -> None:
    stream = await create(api, async_, stream=True, stream_options={"include_usage": True})
    assert span_exporter.get_finished_spans() == ()
    chunks = await read_all(stream, async_)

    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == DEFAULT_TEXT
    usage = chunks[-1].usage
    span = only_span(span_exporter)
    attributes = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.OK
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["anthropic.stream.completed"] is True
    assert attributes["gen_ai.response.id"] == chunks[0].id
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert attributes["anthropic.request.id"] == api.last_headers["request-id"]
    assert attributes["anthropic.cost.usd"] == expected_cost(usage.prompt_tokens, usage.completion_tokens)
    assert 0 < attributes["gen_ai.response.time_to_first_chunk"] <= span.end_time - span.start_time
    assert tokens(metric_reader) == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    [ttft] = metric_points(metric_reader, "gen_ai.client.operation.time_to_first_chunk")
    assert ttft.count == 1


@pytest.mark.usefixtures("compat")
def test_a_stream_without_include_usage_records_no_tokens(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> None:
    list(client(api).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))

    span = only_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is True
    assert "gen_ai.usage.input_tokens" not in span.attributes
    assert "anthropic.cost.usd" not in span.attributes
    assert metric_points(metric_reader, "gen_ai.client.token.usage") == []
    assert len(metric_points(metric_reader, "gen_ai.client.operation.duration")) == 1


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("how", ["break", "close", "with", "drop"])
def test_a_stream_left_early_ends_its_span_once_not_completed(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, how: str
) -> None:
    stream = client(api).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    if how == "break":  # broken out of, then dropped (until then it could be resumed)
        for _ in stream:
            break
        del stream
        gc.collect()
    elif how == "close":
        next(iter(stream))
        stream.close()
    elif how == "with":
        with stream as events:
            next(iter(events))
    else:
        del stream
        gc.collect()

    span = only_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("async_", [False, True])
async def test_a_stream_the_server_cuts_is_an_api_error(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, async_: bool
) -> None:
    api.queue(Fault.truncated_sse(after_events=3))
    chunks = await read_all(await create(api, async_, stream=True), async_)

    assert len(chunks) == 3
    span = only_span(span_exporter)
    assert span.attributes["error.type"] == "api_error"
    assert span.attributes["anthropic.stream.completed"] is False
    assert span.status.status_code is StatusCode.ERROR


@pytest.mark.usefixtures("compat")
def test_a_stream_that_breaks_raises_to_the_app_and_fails_its_span(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(Fault.drop_mid_stream(after_events=2))
    stream = client(api).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    seen = []
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever the HTTP client raises must reach the app
        seen.extend(stream)

    assert len(seen) == 2
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "connection_error"
    # openai 3 wraps the broken read in APIConnectionError; older releases let httpx's error through
    assert type(raised.value).__name__ in ("APIConnectionError", "RemoteProtocolError")


@pytest.mark.usefixtures("compat")
def test_the_stream_helper_is_one_span(api: FakeClaudeAPI, span_exporter: InMemorySpanExporter) -> None:
    completions = client(api).chat.completions
    if not hasattr(completions, "stream"):
        pytest.skip("this openai has chat.completions.stream only under beta")
    with completions.stream(model=MODEL, messages=MESSAGES) as stream:
        final = stream.get_final_completion()

    assert final.choices[0].message.content == DEFAULT_TEXT
    span = only_span(span_exporter)
    assert span.attributes["anthropic.stream.completed"] is True
    assert span.attributes["gen_ai.response.id"] == final.id


# -- the compat_feature_dropped diagnostic -------------------------------------------------------

CACHED = [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": SCHEMA}}
STRICT_TOOL = {"type": "function", "function": {"name": "lookup", "parameters": SCHEMA, "strict": True}}
SYSTEM, USER = {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}

DROPPED = {
    "prompt_caching": {"messages": CACHED},
    "strict_tools": {"tools": [STRICT_TOOL]},
    "structured_outputs": {
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA, "strict": True}}
    },
    # in `extra_body`, as openai < 1.5x has no `reasoning_effort=`: the body as sent is what is looked at
    "reasoning_effort": {"extra_body": {"reasoning_effort": "high"}},
    "thinking_output": {"extra_body": {"thinking": {"type": "enabled", "budget_tokens": 2048}}},
    "system_hoisting": {"messages": [SYSTEM, USER, {"role": "developer", "content": "Use JSON."}]},
}


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("feature", list(DROPPED))
@pytest.mark.parametrize("stream", [False, True])
def test_each_dropped_feature_is_reported(
    api: FakeClaudeAPI, diagnostics: Diagnostics, feature: str, stream: bool
) -> None:
    kwargs = {"model": MODEL, "messages": MESSAGES, **DROPPED[feature]}
    with diagnostics.warnings_caught():
        result = client(api).chat.completions.create(stream=stream, **kwargs)
        if stream:
            list(result)

    [event] = diagnostics.events()
    assert event["anthropic.diagnostic.code"] == "compat_feature_dropped"
    assert event["anthropic.diagnostic.dropped_features"] == (feature,)
    assert event["anthropic.diagnostic.message"].startswith(f"{feature}: ")
    assert event["anthropic.diagnostic.message"].endswith(f"({CODES['compat_feature_dropped'].fix})")
    [count] = metric_points(diagnostics.reader, "anthropic.client.diagnostics")
    assert (count.value, dict(count.attributes)) == (
        1,
        {
            "gen_ai.provider.name": "anthropic",
            "anthropic.diagnostic.code": "compat_feature_dropped",
            "gen_ai.request.model": MODEL,
        },
    )
    assert diagnostics.warnings() == [
        f"anthropic-otel [compat_feature_dropped]: {event['anthropic.diagnostic.message']}"
    ]


@pytest.mark.usefixtures("compat")
def test_several_dropped_features_are_one_finding(api: FakeClaudeAPI, span_exporter: InMemorySpanExporter) -> None:
    thinking = {"extra_body": {"reasoning_effort": "high", "thinking": {"type": "enabled", "budget_tokens": 2048}}}
    kwargs = {**DROPPED["prompt_caching"], **DROPPED["strict_tools"], **thinking}
    client(api).chat.completions.create(model=MODEL, **kwargs)

    [event] = diagnostic_events(span_exporter)
    assert event["anthropic.diagnostic.dropped_features"] == (
        "prompt_caching",
        "strict_tools",
        "reasoning_effort",
        "thinking_output",
    )


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize("stream", [False, True])
def test_a_request_the_layer_fully_supports_reports_nothing(
    api: FakeClaudeAPI, diagnostics: Diagnostics, stream: bool
) -> None:
    result = client(api).chat.completions.create(
        model=MODEL,
        messages=[SYSTEM, USER, {"role": "assistant", "content": "Hello"}, USER],
        tools=[TOOL],
        response_format={"type": "text"},
        stream=stream,
    )
    if stream:
        list(result)

    diagnostics.assert_none(spans=1)


def test_switched_off_the_diagnostic_does_not_fire(
    api: FakeClaudeAPI,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_DIAGNOSTICS", "all,-compat_feature_dropped")
    instrumentor = OpenAICompatInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, hosts="127.0.0.1")
    try:
        client(api).chat.completions.create(model=MODEL, **DROPPED["system_hoisting"])
    finally:
        instrumentor.uninstrument()
    assert len(span_exporter.get_finished_spans()) == 1
    assert diagnostic_events(span_exporter) == []


# -- never break the app; undo everything --------------------------------------------------------


def test_uninstrument_restores_every_method(api: FakeClaudeAPI, span_exporter: InMemorySpanExporter) -> None:
    from anthropic_otel.openai_compat import _patches as hooks
    from anthropic_otel.openai_compat._instrumentor import WRAPPER_TYPE

    def targets() -> list[Any]:
        found = []
        for target in hooks.WRAP_TARGETS:
            owner_path, _, name = target.attribute.rpartition(".")
            try:
                module = __import__(target.module, fromlist=["_"])
            except ImportError:
                continue
            owner = getattr(module, owner_path, None)
            if owner is not None and name in vars(owner):
                found.append(vars(owner)[name])
        return found

    originals = targets()
    instrumentor = OpenAICompatInstrumentor()
    instrumentor.instrument(hosts="127.0.0.1")
    assert all(isinstance(function, WRAPPER_TYPE) for function in targets())
    instrumentor.uninstrument()

    assert targets() == originals
    assert not any(isinstance(function, WRAPPER_TYPE) for function in targets())
    client(api).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert span_exporter.get_finished_spans() == ()


# -- zero code -----------------------------------------------------------------------------------

ZERO_CODE_APP = """
import openai
completion = openai.OpenAI(max_retries=0).chat.completions.create(
    model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}], extra_body={"reasoning_effort": "low"}
)
print("RESPONSE_ID=" + completion.id, flush=True)
"""


@pytest.mark.parametrize("disabled", ["", "anthropic_otel_openai"])
def test_opentelemetry_instrument_finds_the_entry_point(api: FakeClaudeAPI, tmp_path: Path, disabled: str) -> None:
    app = tmp_path / "app.py"
    app.write_text(ZERO_CODE_APP)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": api.base_url + "/v1/",
        "OPENAI_API_KEY": API_KEY,
        HOSTS_ENV: "127.0.0.1",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": disabled,
    }
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    # The timeout only catches a hang: on a busy machine, starting the process alone can take a minute.
    result = subprocess.run(
        [str(instrument), sys.executable, str(app)], env=env, capture_output=True, text=True, timeout=600, check=True
    )

    response_id = re.search(r"RESPONSE_ID=(msg_\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    spans = [span for span in console_spans(result.stdout) if span["name"] == NAME]
    if disabled:
        assert spans == []
        return
    [span] = spans
    attributes = span["attributes"]
    assert attributes["gen_ai.response.id"] == response_id
    assert attributes["anthropic.request.id"].startswith("req_")
    [event] = span["events"]
    assert event["attributes"]["anthropic.diagnostic.dropped_features"] == ["reasoning_effort"]
    assert API_KEY not in result.stdout + result.stderr


def test_metric_model_names_are_capped_as_for_the_anthropic_sdk(
    api: FakeClaudeAPI,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_MAX_MODELS", "2")
    instrumentor = OpenAICompatInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, hosts=["127.0.0.1"])
    try:
        chat = client(api)
        for name in ("team-model-a", "team-model-b", "team-model-c", "team-model-d"):
            chat.chat.completions.create(model=name, messages=[{"role": "user", "content": "Hi"}])
    finally:
        instrumentor.uninstrument()

    assert sorted(span.attributes["gen_ai.request.model"] for span in span_exporter.get_finished_spans()) == [
        "team-model-a",
        "team-model-b",
        "team-model-c",
        "team-model-d",
    ]
    counts = {
        point.attributes["gen_ai.request.model"]: point.count
        for point in metric_points(metric_reader, "gen_ai.client.operation.duration")
    }
    assert counts == {"team-model-a": 1, "team-model-b": 1, "other": 2}
