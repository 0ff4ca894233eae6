"""Cost on spans, records and metrics, from the real SDK's responses and the price table."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import MessageReply
from tests.conftest import ClientFactory, metric_points, user_message

MODEL = "claude-sonnet-4-6"
# The published example: 1,000 input, 2,000 cache read, 500 5m cache write, 300 output.
USAGE = {
    "input_tokens": 1000,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 500,
    "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 300,
}
INPUT, READ, WRITE, OUTPUT = 1000 * 3e-6, 2000 * 0.30e-6, 500 * 3.75e-6, 300 * 15e-6
SAVED = 2000 * 3e-6 - READ


def cost_points(reader: InMemoryMetricReader) -> dict[tuple[str, object], float]:
    return {
        (point.attributes["anthropic.cost.category"], point.attributes.get("anthropic.route")): point.value
        for point in metric_points(reader, "anthropic.client.cost")
    }


@pytest.mark.usefixtures("instrumented")
def test_published_example_costs_exactly_the_table_on_span_and_metrics(
    api: anthropic_otel.testing.FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    sdk_tracing: bool,
) -> None:
    api.queue(MessageReply(text="priced", usage=USAGE))
    with anthropic_otel.route("ticket-triage"):
        make_client(sdk_tracing=sdk_tracing).messages.create(model=MODEL, max_tokens=300, messages=user_message())

    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["anthropic.cost.usd"] == pytest.approx(INPUT + READ + WRITE + OUTPUT, abs=1e-12)
    assert cost_points(metric_reader) == pytest.approx(
        {
            ("input", "ticket-triage"): INPUT,
            ("cache_read", "ticket-triage"): READ,
            ("cache_write", "ticket-triage"): WRITE,
            ("output", "ticket-triage"): OUTPUT,
        },
        abs=1e-12,
    )
    (saving,) = metric_points(metric_reader, "anthropic.client.cache.savings")
    assert saving.value == pytest.approx(SAVED, abs=1e-12)
    assert saving.attributes["gen_ai.request.model"] == MODEL
    assert saving.attributes["anthropic.batch"] is False


@pytest.mark.usefixtures("instrumented")
def test_streamed_call_is_priced_from_the_final_usage(
    api: anthropic_otel.testing.FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    api.queue(MessageReply(text="streamed and priced", usage=USAGE))
    with make_client().messages.stream(model=MODEL, max_tokens=300, messages=user_message()) as stream:
        stream.until_done()
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["anthropic.cost.usd"] == pytest.approx(INPUT + READ + WRITE + OUTPUT, abs=1e-12)
    assert sum(cost_points(metric_reader).values()) == pytest.approx(INPUT + READ + WRITE + OUTPUT, abs=1e-12)


@pytest.mark.usefixtures("instrumented")
def test_unknown_model_has_no_cost_one_warning_and_counts_as_unpriced(
    api: anthropic_otel.testing.FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        for _ in range(3):
            api.queue(MessageReply(text="?", usage=USAGE))
            client.messages.create(model="claude-unreleased-9", max_tokens=8, messages=user_message())
    assert all("anthropic.cost.usd" not in span.attributes for span in span_exporter.get_finished_spans())
    assert metric_points(metric_reader, "anthropic.client.cost") == []
    (unpriced,) = metric_points(metric_reader, "anthropic.client.cost.unpriced")
    assert unpriced.value == 3
    warnings = [record for record in caplog.records if "claude-unreleased-9" in record.message]
    assert len(warnings) == 1
    assert "ANTHROPIC_OTEL_PRICES" in warnings[0].message


OVERRIDE = {"models": {MODEL: {"input": 1, "cache_write_5m": 2, "cache_write_1h": 3, "cache_read": 0.5, "output": 4}}}


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("instrumented", [{"prices": OVERRIDE}], indirect=True)
def test_prices_given_in_code_override_the_table(
    api: anthropic_otel.testing.FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text="cheap", usage=USAGE))
    make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["anthropic.cost.usd"] == pytest.approx((1000 * 1 + 2000 * 0.5 + 500 * 2 + 300 * 4) / 1e6)


def test_price_file_from_the_environment_overrides_the_table(
    api: anthropic_otel.testing.FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(OVERRIDE))
    monkeypatch.setenv("ANTHROPIC_OTEL_PRICES", str(path))
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        api.queue(MessageReply(text="cheap", usage=USAGE))
        make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    finally:
        instrumentor.uninstrument()
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["anthropic.cost.usd"] == pytest.approx((1000 * 1 + 2000 * 0.5 + 500 * 2 + 300 * 4) / 1e6)
