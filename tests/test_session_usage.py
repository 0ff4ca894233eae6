"""Managed-agents sessions: the usage the API reports reaches the token and cost metrics exactly once.

The fake API reports a session's usage as the real one does: cumulatively on the session object
(create, retrieve, list), in `session.usage` events (stream, list), on its thread, and split up in
each model request's `span.model_request_end` event. However often and wherever it is reported, the
metrics count each token once, as the agent's work (`invoke_agent`, the agent's model), and never
carry a session or agent id; spans and call records carry the ids and the session's running total.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel._session_usage import SessionUsage
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, InMemoryLogExporter, call_records, metric_points, spans_named
from tests.test_agents import start_session

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"


def user_message(text: str) -> list[dict[str, Any]]:
    return [{"type": "user.message", "content": [{"type": "text", "text": text}]}]


def agent_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    return [
        point for point in metric_points(reader, name) if point.attributes["gen_ai.operation.name"] == "invoke_agent"
    ]


def test_a_sessions_usage_is_counted_once_however_often_it_is_reported(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: InMemoryLogExporter,
) -> None:
    client = make_client()
    _, agent, session = start_session(client)
    # Turn 1, "Triage ticket 47928": 16 input, 8 output. It is reported by the stream's snapshot (SDK 2.x
    # gives it to the application), by each retrieve and list, by the thread, by the model request's event.
    client.beta.sessions.events.send(session.id, events=user_message("Triage ticket 47928"))
    list(client.beta.sessions.events.stream(session.id))
    for _ in range(2):
        client.beta.sessions.retrieve(session.id)
    list(client.beta.sessions.list())
    (thread,) = client.beta.sessions.threads.list(session.id)
    client.beta.sessions.threads.retrieve(thread.id, session_id=session.id)
    list(client.beta.sessions.events.list(session.id))
    # Turn 2, "Close it": 10 uncached input, 4 read from the cache, 8 output; reported by the events' list.
    client.beta.sessions.events.send(session.id, events=user_message("Close it"))
    list(client.beta.sessions.events.list(session.id))
    final = client.beta.sessions.retrieve(session.id)

    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens, final.usage.output_tokens) == (26, 4, 16)
    tokens = {
        point.attributes["gen_ai.token.type"]: point
        for point in agent_points(metric_reader, "gen_ai.client.token.usage")
    }
    assert (tokens["input"].sum, tokens["input"].count) == (16 + 14, 2)  # input counts the cache reads too
    assert (tokens["output"].sum, tokens["output"].count) == (16, 2)
    assert tokens["input"].attributes["gen_ai.request.model"] == MODEL
    (read,) = [
        p.value
        for p in metric_points(metric_reader, "anthropic.client.cache.tokens")
        if p.attributes["anthropic.cache.operation"] == "read"
    ]
    assert read == 4
    spent = sum(point.value for point in metric_points(metric_reader, "anthropic.client.cost"))
    assert math.isclose(spent, (26 * 3 + 4 * 0.30 + 16 * 15) / 1e6, rel_tol=1e-12)
    for point in (
        *metric_points(metric_reader, "gen_ai.client.token.usage"),
        *metric_points(metric_reader, "anthropic.client.cost"),
    ):
        assert not {"anthropic.session.id", "gen_ai.agent.id"} & set(point.attributes)

    retrieved = spans_named(span_exporter, "anthropic.sessions.retrieve")[-1]
    assert retrieved.attributes["anthropic.session.id"] == session.id
    assert retrieved.attributes["gen_ai.agent.id"] == agent.id
    assert {
        key: value for key, value in retrieved.attributes.items() if key.startswith("anthropic.session.usage.")
    } == {
        "anthropic.session.usage.input_tokens": 26,
        "anthropic.session.usage.output_tokens": 16,
        "anthropic.session.usage.cache_read_input_tokens": 4,
        "anthropic.session.usage.cache_creation_input_tokens": 0,
    }
    record = [r for r in call_records(log_exporter) if r.attributes.get("anthropic.session.id") == session.id][-1]
    assert (record.attributes["gen_ai.agent.id"], record.attributes["anthropic.session.usage.input_tokens"]) == (
        agent.id,
        26,
    )


def test_threads_and_model_requests_are_parts_of_the_session_not_counted_again(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    client = make_client()
    _, _, session = start_session(client)
    client.beta.sessions.events.send(session.id, events=user_message("Triage ticket 47928"))
    (thread,) = client.beta.sessions.threads.list(session.id)
    client.beta.sessions.threads.retrieve(thread.id, session_id=session.id)
    assert thread.usage.input_tokens == 16
    assert agent_points(metric_reader, "gen_ai.client.token.usage") == []
    client.beta.sessions.retrieve(session.id)
    assert sum(p.sum for p in agent_points(metric_reader, "gen_ai.client.token.usage")) == 16 + 8


def test_the_increase_arithmetic() -> None:
    sessions = SessionUsage(limit=2)
    grown, model = sessions.increase("s1", MODEL, {"input_tokens": 10, "output_tokens": 2})
    assert (grown, model) == (
        {
            "input_tokens": 10,
            "output_tokens": 2,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        },
        MODEL,
    )
    assert sessions.increase("s1", None, {"input_tokens": 10, "output_tokens": 2}) == (None, MODEL)
    later = {"input_tokens": 15, "output_tokens": 2, "server_tool_use": {"web_search_requests": 3}}
    grown, _ = sessions.increase("s1", None, later)
    assert grown is not None
    assert (grown["input_tokens"], grown["output_tokens"], grown["server_tool_use"]["web_search_requests"]) == (5, 0, 3)
    assert sessions.increase("s1", None, {"input_tokens": 12, "output_tokens": 2})[0] is None  # an older report
    assert sessions.increase("s2", None, {"usage": "odd"}) == (None, None)
    sessions.increase("s2", None, {"input_tokens": 1, "output_tokens": 0})
    sessions.increase("s3", None, {"input_tokens": 1, "output_tokens": 0})  # past the limit: s1 is forgotten
    assert sessions.increase("s1", None, later)[0] is not None
