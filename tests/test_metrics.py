"""Metrics count every call exactly, sampled or not, and stay low-cardinality."""

from __future__ import annotations

import anthropic
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._read.bodies import usage_counts
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, metric_points, user_message

MODEL = "claude-haiku-4-5"


def by_token_type(reader: InMemoryMetricReader) -> dict[str, tuple[int, float]]:
    return {
        point.attributes["gen_ai.token.type"]: (point.count, point.sum)
        for point in metric_points(reader, "gen_ai.client.token.usage")
    }


@pytest.mark.usefixtures("instrument")
def test_token_and_duration_metrics_match_the_calls_exactly(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    api.queue(
        MessageReply(text="a", usage={"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 50}),
        MessageReply(
            text="b",
            usage={
                "input_tokens": 200,
                "output_tokens": 20,
                "cache_creation_input_tokens": 30,
                "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20},
            },
        ),
        ErrorReply(400),
    )
    client = make_client()
    client.messages.create(model=MODEL, max_tokens=32, messages=user_message())
    client.messages.create(model=MODEL, max_tokens=32, messages=user_message())
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model=MODEL, max_tokens=32, messages=user_message())

    assert by_token_type(metric_reader) == {"input": (2, 100 + 50 + 200 + 30), "output": (2, 30)}
    durations = {
        point.attributes.get("error.type"): point.count
        for point in metric_points(metric_reader, "gen_ai.client.operation.duration")
    }
    assert durations == {None: 2, "invalid_request_error": 1}
    cache = {
        point.attributes["anthropic.cache.operation"]: point.value
        for point in metric_points(metric_reader, "anthropic.client.cache.tokens")
    }
    assert cache == {"read": 50, "write_5m": 10, "write_1h": 20}


@pytest.mark.usefixtures("instrument")
def test_metric_attributes_are_low_cardinality(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    api.queue(MessageReply(text="x", usage={"input_tokens": 1, "output_tokens": 1}))
    make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    (point,) = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": int(api.base_url.rsplit(":", 1)[1]),
    }


@pytest.mark.usefixtures("instrument")
def test_retries_are_counted(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    api.queue(ErrorReply(429, retry_after=0), MessageReply(text="ok"))
    make_client(max_retries=1).messages.create(model=MODEL, max_tokens=8, messages=user_message())
    (point,) = metric_points(metric_reader, "anthropic.client.retries")
    assert point.value == 1


@pytest.mark.usefixtures("instrument")
def test_count_tokens_records_duration_but_no_token_usage(
    make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    make_client().messages.count_tokens(model=MODEL, messages=user_message())
    (point,) = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert point.attributes["gen_ai.operation.name"] == "count_tokens"
    assert metric_points(metric_reader, "gen_ai.client.token.usage") == []


def test_metrics_do_not_depend_on_sampling(api: FakeClaudeAPI, make_client: ClientFactory) -> None:
    reader = InMemoryMetricReader()
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=TracerProvider(sampler=ALWAYS_OFF), meter_provider=MeterProvider(metric_readers=[reader])
    )
    try:
        api.queue(MessageReply(text="x", usage={"input_tokens": 5, "output_tokens": 6}))
        make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    finally:
        instrumentor.uninstrument()
    assert by_token_type(reader) == {"input": (1, 5), "output": (1, 6)}


def test_token_counts_include_cache_in_input() -> None:
    usage = {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 6}
    assert usage_counts(usage)[0] == {"input": 14, "output": 4}


def test_cache_counts_default_unsplit_writes_to_five_minutes() -> None:
    assert usage_counts({"cache_creation_input_tokens": 9})[1] == {"read": 0, "write_5m": 9, "write_1h": 0}
    split = {
        "cache_creation_input_tokens": 9,
        "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 5},
    }
    assert usage_counts(split)[1] == {"read": 0, "write_5m": 4, "write_1h": 5}


def test_token_counts_ignore_garbage() -> None:
    assert usage_counts(None)[0] == {}
    assert usage_counts({"input_tokens": "12", "output_tokens": True})[0] == {}
    assert usage_counts({"input_tokens": -5, "output_tokens": 2})[0] == {"input": 0, "output": 2}
