"""One `anthropic.call` record per call, linked to its span; the opt-in JSON line; route tagging."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry._logs import NoOpLogger
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._records import CallLog, call_record
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply
from tests.conftest import API_KEY, ClientFactory, InMemoryLogExporter, call_records, metric_points, user_message

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 40, "output_tokens": 12, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 60}
SECRET_PROMPT = "the launch code is 0000"


def test_call_record_keeps_only_allowed_keys() -> None:
    record = call_record(
        {"gen_ai.request.model": "m", "anthropic.request.id": "req_1", "gen_ai.input.messages": "secret"}, 0.1234567
    )
    assert record == {"gen_ai.request.model": "m", "anthropic.request.id": "req_1", "anthropic.call.duration": 0.123457}


def test_records_are_built_only_when_something_takes_them() -> None:
    """Without a LoggerProvider the OpenTelemetry logger drops records: none is built (it costs
    microseconds per call). A provider with a processor, or the JSON lines, take them."""
    assert CallLog(NoOpLogger("anthropic_otel"), json_lines=False).wanted is False
    assert CallLog(NoOpLogger("anthropic_otel"), json_lines=True).wanted is True
    idle = LoggerProvider()
    assert CallLog(idle.get_logger("anthropic_otel"), json_lines=False).wanted is False
    busy = LoggerProvider()
    busy.add_log_record_processor(SimpleLogRecordProcessor(InMemoryLogExporter()))
    assert CallLog(busy.get_logger("anthropic_otel"), json_lines=False).wanted is True


@pytest.mark.usefixtures("instrument")
def test_one_record_per_call_linked_to_its_span(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogExporter,
) -> None:
    api.queue(MessageReply(text="ok", usage=USAGE, stop_reason="end_turn"), ErrorReply(429))
    client = make_client()
    message = client.messages.create(model=MODEL, max_tokens=32, messages=user_message(SECRET_PROMPT))
    with pytest.raises(Exception, match="429"):
        client.messages.create(model=MODEL, max_tokens=32, messages=user_message())

    spans = span_exporter.get_finished_spans()
    records = call_records(log_exporter)
    assert len(records) == len(spans) == 2
    ok, failed = records
    assert ok.trace_id == spans[0].context.trace_id
    assert ok.span_id == spans[0].context.span_id
    assert failed.span_id == spans[1].context.span_id
    attributes = dict(ok.attributes)
    assert attributes["anthropic.request.id"] == message._request_id
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["gen_ai.usage.input_tokens"] == 40 + 900 + 60
    assert attributes["gen_ai.usage.output_tokens"] == 12
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 900
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == 60
    assert attributes["anthropic.message.stop_reason"] == "end_turn"
    assert 0 < attributes["anthropic.call.duration"] < 60
    assert "error.type" not in attributes
    assert dict(failed.attributes)["error.type"] == "rate_limit_error"
    assert failed.severity_text == "WARN"
    everything = repr([dict(record.attributes) for record in records]) + repr([record.body for record in records])
    assert SECRET_PROMPT not in everything
    assert API_KEY not in everything


def test_json_line_only_when_enabled_and_without_content(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tracer_provider: Any,
) -> None:
    def lines() -> list[dict[str, Any]]:
        return [json.loads(r.message) for r in caplog.records if r.name == "anthropic_otel.calls"]

    for enabled in (False, True):
        if enabled:
            monkeypatch.setenv("ANTHROPIC_OTEL_LOG_CALLS", "true")
        instrumentor = AnthropicInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider)
        try:
            with caplog.at_level(logging.INFO, logger="anthropic_otel.calls"):
                api.queue(MessageReply(text="x", usage=USAGE))
                message = make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message(SECRET_PROMPT))
        finally:
            instrumentor.uninstrument()
        if not enabled:
            assert lines() == []
    (line,) = lines()
    assert line["event"] == "anthropic.call"
    assert line["anthropic.request.id"] == message._request_id
    assert line["gen_ai.usage.output_tokens"] == 12
    assert SECRET_PROMPT not in json.dumps(line)
    assert API_KEY not in json.dumps(line)


@pytest.mark.usefixtures("instrument")
async def test_route_tags_spans_metrics_and_records_of_sync_async_and_streamed_calls(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: InMemoryLogExporter,
) -> None:
    with anthropic_otel.route("ticket-triage"), anthropic_otel.conversation("conv-123"):
        make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
        await make_client(async_=True).messages.create(model=MODEL, max_tokens=8, messages=user_message())
        for _ in make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message(), stream=True):
            pass
    make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())  # outside: no route

    spans = span_exporter.get_finished_spans()
    assert [span.attributes.get("anthropic.route") for span in spans] == ["ticket-triage"] * 3 + [None]
    assert [span.attributes.get("gen_ai.conversation.id") for span in spans] == ["conv-123"] * 3 + [None]
    records = call_records(log_exporter)
    assert [dict(record.attributes).get("anthropic.route") for record in records] == ["ticket-triage"] * 3 + [None]
    by_route = {
        point.attributes.get("anthropic.route"): point.count
        for point in metric_points(metric_reader, "gen_ai.client.operation.duration")
    }
    assert by_route == {"ticket-triage": 3, None: 1}
    # Conversation ids are unbounded: never on a metric point.
    for point in metric_points(metric_reader, "gen_ai.client.token.usage"):
        assert "gen_ai.conversation.id" not in point.attributes


@pytest.mark.usefixtures("instrument")
def test_ratelimit_headroom_gauge_per_kind(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    message = make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    del message
    points = metric_points(metric_reader, "anthropic.client.ratelimit.headroom")
    shares = {point.attributes["anthropic.ratelimit.type"]: point.value for point in points}
    headers = api.last_headers
    expected = {
        kind.replace("-", "_"): int(headers[f"anthropic-ratelimit-{kind}-remaining"])
        / int(headers[f"anthropic-ratelimit-{kind}-limit"])
        for kind in ("requests", "tokens", "input-tokens", "output-tokens")
    }
    assert shares == pytest.approx(expected)
    assert {point.attributes["gen_ai.request.model"] for point in points} == {MODEL}
