"""The legacy Text Completions API (`completions.create`, SDK 0.x): a span and metrics like any call."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, metric_points

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-2.1"
PROMPT = "\n\nHuman: Hello\n\nAssistant:"


def check_span_and_metrics(
    exporter: InMemorySpanExporter, reader: InMemoryMetricReader, completion_id: str, *, stream: bool
) -> None:
    (span,) = exporter.get_finished_spans()
    assert (span.name, span.kind, span.status.status_code) == (
        "anthropic.completions.create",
        SpanKind.CLIENT,
        StatusCode.OK,
    )
    expected = {
        "gen_ai.operation.name": "text_completion",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 32,
        "gen_ai.response.id": completion_id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop_sequence",),
        "http.route": "/v1/complete",
    }
    if stream:
        expected["gen_ai.request.stream"] = True
        expected["anthropic.stream.completed"] = True
    assert {key: span.attributes[key] for key in expected} == expected
    assert span.attributes["anthropic.request.id"].startswith("req_")
    (point,) = metric_points(reader, "gen_ai.client.operation.duration")
    assert point.count == 1
    assert point.attributes["gen_ai.operation.name"] == "text_completion"
    assert point.attributes["gen_ai.response.model"] == MODEL


@pytest.mark.parametrize("async_", [False, True])
async def test_completion_span_and_metrics(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    async_: bool,
) -> None:
    client = make_client(async_=async_)
    create = client.completions.create(model=MODEL, max_tokens_to_sample=32, prompt=PROMPT)
    completion = await create if async_ else create

    assert completion.completion == " Hello from the fake API."
    check_span_and_metrics(span_exporter, metric_reader, completion.id, stream=False)


def test_streamed_completion(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    chunks = list(make_client().completions.create(model=MODEL, max_tokens_to_sample=32, prompt=PROMPT, stream=True))

    assert "".join(chunk.completion for chunk in chunks) == " Hello from the fake API."
    check_span_and_metrics(span_exporter, metric_reader, chunks[0].id, stream=True)
    (ttft,) = metric_points(metric_reader, "gen_ai.client.operation.time_to_first_chunk")
    assert ttft.count == 1
