"""Message Batch results: usage and cost of each succeeded result, a record per result, one span."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, InMemoryLogExporter, metric_points

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"


def batch_requests(outcomes: dict[str, str]) -> list[Any]:
    """Requests whose `metadata.fake_result` tells the fake API how each one ends."""
    return [
        {
            "custom_id": custom_id,
            "params": {
                "model": MODEL,
                "max_tokens": 32,
                "messages": [{"role": "user", "content": f"Summarise {custom_id} in one line"}],
                "metadata": {"fake_result": outcome},
            },
        }
        for custom_id, outcome in outcomes.items()
    ]


def result_records(exporter: InMemoryLogExporter) -> list[Any]:
    records = [getattr(data, "log_record", data) for data in exporter.get_finished_logs()]
    return [record for record in records if getattr(record, "event_name", None) == "anthropic.batch.result"]


@pytest.mark.parametrize("async_", [False, True])
async def test_four_succeeded_one_errored(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: InMemoryLogExporter,
    async_: bool,
) -> None:
    outcomes = {f"ticket-{47925 + n}": "succeeded" for n in range(5)}
    outcomes["ticket-47928"] = "errored"
    client = make_client(async_=async_)
    if async_:
        batch = await client.messages.batches.create(requests=batch_requests(outcomes))
        results = [item async for item in await client.messages.batches.results(batch.id)]
    else:
        batch = client.messages.batches.create(requests=batch_requests(outcomes))
        results = list(client.messages.batches.results(batch.id))

    succeeded = [item for item in results if item.result.type == "succeeded"]
    assert len(succeeded) == 4
    usage_in = sum(
        i.result.message.usage.input_tokens
        + (i.result.message.usage.cache_read_input_tokens or 0)
        + (i.result.message.usage.cache_creation_input_tokens or 0)
        for i in succeeded
    )
    usage_out = sum(item.result.message.usage.output_tokens for item in succeeded)

    batch_tokens = {
        point.attributes["gen_ai.token.type"]: (point.count, point.sum)
        for point in metric_points(metric_reader, "gen_ai.client.token.usage")
        if point.attributes.get("anthropic.batch") is True
    }
    assert batch_tokens == {"input": (4, usage_in), "output": (4, usage_out)}
    by_type = {
        point.attributes["anthropic.batch.result.type"]: point.value
        for point in metric_points(metric_reader, "anthropic.client.batch.results")
    }
    assert by_type == {"succeeded": 4, "errored": 1}
    batch_cost = [p for p in metric_points(metric_reader, "anthropic.client.cost") if p.attributes["anthropic.batch"]]
    assert {p.attributes["anthropic.cost.category"] for p in batch_cost} >= {"input", "output"}

    records = result_records(log_exporter)
    assert sorted(dict(r.attributes)["anthropic.batch.custom_id"] for r in records) == sorted(outcomes)
    (failed,) = [r for r in records if dict(r.attributes)["anthropic.batch.custom_id"] == "ticket-47928"]
    assert dict(failed.attributes)["anthropic.batch.result.type"] == "errored"
    assert dict(failed.attributes)["error.type"] == "invalid_request_error"
    ok = {dict(r.attributes)["anthropic.batch.custom_id"]: dict(r.attributes) for r in records}
    for item in succeeded:
        assert ok[item.custom_id]["gen_ai.response.id"] == item.result.message.id
        assert ok[item.custom_id]["gen_ai.usage.output_tokens"] == item.result.message.usage.output_tokens

    (span,) = [s for s in span_exporter.get_finished_spans() if s.name == "anthropic.messages.batches.results"]
    assert span.attributes["anthropic.batch.results.succeeded"] == 4
    assert span.attributes["anthropic.batch.results.errored"] == 1
    assert span.attributes["anthropic.batch.results.input_tokens"] == usage_in
    assert span.attributes["anthropic.batch.results.output_tokens"] == usage_out
    assert all(record.span_id == span.context.span_id for record in records)
