"""Message Batch calls: the batch id on every span, the request count on create, status and counts.

`anthropic.message.batch.id` and `anthropic.message.batch.request_count` are the SDK 2.13's own
keys; `anthropic.message.batch.processing_status` and `anthropic.message.batch.request_counts.*`
are ours, from every response that is a batch, on both span paths.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, spans_named
from tests.test_batch_results import batch_requests

pytestmark = pytest.mark.usefixtures("instrument")

OUTCOMES = {"ticket-1": "succeeded", "ticket-2": "succeeded", "ticket-3": "errored"}
COUNTS = {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 0}


def batch_attributes(span: Any) -> dict[str, Any]:
    return {key: value for key, value in span.attributes.items() if key.startswith("anthropic.message.batch.")}


def status_and_counts(batch_id: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "anthropic.message.batch.id": batch_id,
        "anthropic.message.batch.processing_status": "ended",
    }
    attributes.update({f"anthropic.message.batch.request_counts.{name}": count for name, count in COUNTS.items()})
    return attributes


@pytest.mark.parametrize("surface", ["messages", "beta.messages"])
def test_batch_calls_carry_id_count_status_and_counts(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, surface: str
) -> None:
    client = make_client()
    batches = (client.beta.messages if surface == "beta.messages" else client.messages).batches
    batch = batches.create(requests=batch_requests(OUTCOMES))
    batches.retrieve(batch.id)
    batches.cancel(batch.id)
    list(batches.list(limit=2))
    list(batches.results(batch.id))
    batches.delete(batch.id)

    (create,) = spans_named(span_exporter, "anthropic.messages.batches.create")
    assert batch_attributes(create) == {**status_and_counts(batch.id), "anthropic.message.batch.request_count": 3}
    # `results()` retrieves the batch first (for its `results_url`) on most SDK versions: one or two retrieves.
    retrieves = spans_named(span_exporter, "anthropic.messages.batches.retrieve")
    assert len(retrieves) in (1, 2)
    assert all(batch_attributes(retrieve) == status_and_counts(batch.id) for retrieve in retrieves)
    (cancel,) = spans_named(span_exporter, "anthropic.messages.batches.cancel")
    assert batch_attributes(cancel) == status_and_counts(batch.id)
    (listed,) = spans_named(span_exporter, "anthropic.messages.batches.list")
    assert batch_attributes(listed) == {}
    assert listed.attributes["url.query"] == "limit=2"
    (results,) = spans_named(span_exporter, "anthropic.messages.batches.results")
    assert results.attributes["anthropic.message.batch.id"] == batch.id
    (delete,) = spans_named(span_exporter, "anthropic.messages.batches.delete")
    assert batch_attributes(delete) == {"anthropic.message.batch.id": batch.id}


async def test_async_retrieve(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client(async_=True)
    batch = await client.messages.batches.create(requests=batch_requests(OUTCOMES))
    await client.messages.batches.retrieve(batch.id)
    (retrieve,) = spans_named(span_exporter, "anthropic.messages.batches.retrieve")
    assert batch_attributes(retrieve) == status_and_counts(batch.id)


@pytest.mark.sdk_tracing_only
def test_sdk_spans_are_enriched_alike(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    def run(sdk_tracing: bool) -> dict[str, dict[str, Any]]:
        span_exporter.clear()
        client = make_client(sdk_tracing=sdk_tracing)
        batch = client.messages.batches.create(requests=batch_requests(OUTCOMES))
        client.messages.batches.retrieve(batch.id)
        spans = span_exporter.get_finished_spans()
        assert len(spans) == 2
        return {span.name: {**batch_attributes(span), "anthropic.message.batch.id": None} for span in spans}

    sdks = run(True)
    assert sdks == run(False)
    assert sdks["anthropic.messages.batches.create"]["anthropic.message.batch.request_count"] == 3
    assert sdks["anthropic.messages.batches.retrieve"]["anthropic.message.batch.request_counts.errored"] == 1
