"""Bedrock, Vertex and Foundry calls priced at the platform's own prices, by the id the application sent.

Every call goes through the real platform client of the SDK to the fake API, which answers Bedrock
as Bedrock does: streams in AWS event-stream framing, and the served model (not the id sent) in
the answer. The span keeps the id sent (`gen_ai.request.model`); the cost follows the price list
of the platform, endpoint and inference profile, to the cent, or is absent where none is published.
"""

from __future__ import annotations

import math
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import metric_points, user_message
from tests.test_platforms import bedrock, foundry, vertex

# 1,000 uncached input, 2,000 cache read, 500 5-minute cache write, 300 output.
USAGE = {
    "input_tokens": 1000,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 500,
    "output_tokens": 300,
}


def usd(input: float, write_5m: float, read: float, output: float) -> float:
    """What USAGE costs at these USD-per-million prices."""
    return (1000 * input + 500 * write_5m + 2000 * read + 300 * output) / 1e6


REGIONAL_SONNET_4_6 = usd(3.3, 4.125, 0.33, 16.5)  # Bedrock's regional price: 10 % over the global one
GLOBAL_SONNET_4_6 = usd(3, 3.75, 0.30, 15)


def options(sdk_tracing: bool, tracer_provider: TracerProvider) -> dict[str, Any]:
    return {"open_telemetry": {"tracer_provider": tracer_provider}} if sdk_tracing else {}


def only_span(exporter: InMemorySpanExporter) -> Any:
    (span,) = exporter.get_finished_spans()
    return span


def spent(reader: InMemoryMetricReader) -> float:
    return sum(point.value for point in metric_points(reader, "anthropic.client.cost"))


def unpriced(reader: InMemoryMetricReader) -> float:
    return sum(point.value for point in metric_points(reader, "anthropic.client.cost.unpriced"))


def call(
    factory: Any, api: FakeClaudeAPI, model: str, sdk_tracing: bool, tracer_provider: TracerProvider, **extra: Any
) -> Any:
    """One call of `model` through the platform client `factory` makes, with USAGE."""
    client = factory(api.base_url, **options(sdk_tracing, tracer_provider), **extra)
    api.queue(MessageReply(usage=USAGE))
    return client.messages.create(model=model, max_tokens=16, messages=user_message())


def assert_unpriced(exporter: InMemorySpanExporter, reader: InMemoryMetricReader) -> None:
    """No cost on the span, none in the metric, one unpriced call."""
    assert "anthropic.cost.usd" not in only_span(exporter).attributes
    assert spent(reader) == 0
    assert unpriced(reader) == 1


def assert_cost(span: Any, reader: InMemoryMetricReader, expected: float) -> None:
    """The span and the cost metric both say `expected`, exactly, and to the cent."""
    assert math.isclose(span.attributes["anthropic.cost.usd"], expected, rel_tol=1e-12)
    assert math.isclose(spent(reader), expected, rel_tol=1e-12)
    assert round(span.attributes["anthropic.cost.usd"], 2) == round(expected, 2)


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("us.anthropic.claude-sonnet-4-6-v1:0", REGIONAL_SONNET_4_6),  # cross-region profile, US geography
        ("eu.anthropic.claude-sonnet-4-6", REGIONAL_SONNET_4_6),
        ("anthropic.claude-sonnet-4-6", REGIONAL_SONNET_4_6),  # in-region
        ("global.anthropic.claude-sonnet-4-6-v1:0", GLOBAL_SONNET_4_6),  # global profile: no premium
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6",
            REGIONAL_SONNET_4_6,
        ),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", usd(3.3, 4.125, 0.33, 16.5)),
        ("apac.anthropic.claude-haiku-4-5-20251001-v1:0", usd(1.1, 1.375, 0.11, 5.5)),
    ],
)
def test_bedrock_ids_are_priced_at_bedrocks_price_for_their_profile(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    sdk_tracing: bool,
    model: str,
    expected: float,
) -> None:
    message = call(bedrock, api, model, sdk_tracing, tracer_provider)

    span = only_span(span_exporter)
    assert span.attributes["gen_ai.request.model"] == model  # the id sent, as sent
    assert span.attributes["gen_ai.response.model"] == message.model != model  # Bedrock names the model served
    assert_cost(span, metric_reader, expected)
    assert unpriced(metric_reader) == 0


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("us.anthropic.claude-sonnet-4-6-v1:0", REGIONAL_SONNET_4_6),
        ("global.anthropic.claude-sonnet-4-6", GLOBAL_SONNET_4_6),
    ],
    ids=["us-profile", "global-profile"],
)
async def test_a_bedrock_stream_is_decoded_and_priced_to_the_cent(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    sdk_tracing: bool,
    async_: bool,
    model: str,
    expected: float,
) -> None:
    """Bedrock streams in AWS event-stream framing (`application/vnd.amazon.eventstream`), which the
    SDK's Bedrock client decodes; the usage of its `message_start` and `message_delta` is priced."""
    client = bedrock(api.base_url, async_=async_, **options(sdk_tracing, tracer_provider))
    api.queue(MessageReply(text="streamed from Bedrock", usage=USAGE))
    ask = {"model": model, "max_tokens": 16, "messages": user_message(), "stream": True}
    if async_:
        events = [event.type async for event in await client.messages.create(**ask)]
    else:
        events = [event.type for event in client.messages.create(**ask)]

    assert events[0] == "message_start"
    assert events[-2:] == ["message_delta", "message_stop"]
    path = api.requests[-1].path
    assert path.endswith("/invoke-with-response-stream")
    span = only_span(span_exporter)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["anthropic.stream.completed"] is True
    assert span.attributes["gen_ai.usage.input_tokens"] == 3500
    assert span.attributes["gen_ai.usage.output_tokens"] == 300
    assert span.attributes["gen_ai.response.model"] == "claude-sonnet-4-6"
    assert_cost(span, metric_reader, expected)


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    "model",
    [
        "apac.anthropic.claude-fable-5-2",  # published for the US and EU geographies and in-region only
        "anthropic.claude-mythos-5",  # no Bedrock price published at all
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",  # names no model
    ],
)
def test_bedrock_ids_without_a_published_price_get_none(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    sdk_tracing: bool,
    model: str,
) -> None:
    call(bedrock, api, model, sdk_tracing, tracer_provider)
    assert_unpriced(span_exporter, metric_reader)


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    ("region", "expected"),
    [("global", usd(3, 3.75, 0.30, 15)), ("us-east5", None)],
    ids=["global-endpoint", "regional-endpoint"],
)
def test_vertex_is_priced_by_its_endpoint(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    sdk_tracing: bool,
    region: str,
    expected: float | None,
) -> None:
    """Vertex's global endpoint has published prices; its regional ones (a 10 % premium on newer
    models, by Google's page) have none in genai-prices, so they get no cost rather than a guess."""
    call(vertex, api, "claude-sonnet-4-5@20250929", sdk_tracing, tracer_provider, region=region)

    assert only_span(span_exporter).attributes["gen_ai.request.model"] == "claude-sonnet-4-5@20250929"
    if expected is None:
        assert_unpriced(span_exporter, metric_reader)
    else:
        assert_cost(only_span(span_exporter), metric_reader, expected)


FOUNDRY_PRICES = {
    "platforms": {
        "azure.foundry": {
            "claude-sonnet-4-6": {
                "input": 3,
                "cache_write_5m": 3.75,
                "cache_write_1h": 6,
                "cache_read": 0.3,
                "output": 15,
            }
        }
    }
}


HAS_FOUNDRY = hasattr(anthropic, "AnthropicFoundry")


@pytest.mark.only_if(HAS_FOUNDRY, reason="AnthropicFoundry is newer than this SDK")
@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    ("instrumented", "priced"),
    [({}, False), ({"prices": FOUNDRY_PRICES}, True)],
    ids=["shipped", "user-prices"],
    indirect=["instrumented"],
)
def test_foundry_is_priced_only_from_prices_the_user_gives(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    sdk_tracing: bool,
    priced: bool,
) -> None:
    """Microsoft publishes Foundry's Claude prices, genai-prices has none: no shipped row, a user's row prices it."""
    call(foundry, api, "claude-sonnet-4-6", sdk_tracing, tracer_provider)
    if priced:
        assert_cost(only_span(span_exporter), metric_reader, GLOBAL_SONNET_4_6)
    else:
        assert_unpriced(span_exporter, metric_reader)
