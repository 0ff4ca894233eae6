"""Managed agents (beta `agents`, `environments`, `sessions` with `events`, `threads`, `work`).

Spans are named as the SDK 2.13 names them and carry the ids it records, on SDKs that have these
resources but no tracing (0.92 to 1.13) as on the SDK's own spans (1.14+). The session event
stream ends its call exactly once, however reading stops.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel import conversation
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import SDK_VERSION, ClientFactory, spans_named

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"
# What reading a stream whose connection breaks raises: the HTTP library's error (httpx, or httpx2 on SDK 1.0+).
BROKEN_CONNECTION = (
    anthropic.APIConnectionError,
    *(module.TransportError for module in (sys.modules.get("httpx"), sys.modules.get("httpx2")) if module),
)
TURN_EVENTS = ["span.model_request_start", "span.model_request_end", "agent.message", "session.usage"]
USER_MESSAGE = [{"type": "user.message", "content": [{"type": "text", "text": "Triage ticket 47928"}]}]


def sdk_yields(events: list[str]) -> list[str]:
    """The events of `events` that the installed SDK's stream gives the application."""
    return [event for event in events if event != "session.usage" or SDK_VERSION >= (2, 0)]


def start_session(client: Any, **session: Any) -> tuple[Any, Any, Any]:
    environment = client.beta.environments.create(name="triage-env")
    agent = client.beta.agents.create(name="triage", model=MODEL)
    created = client.beta.sessions.create(agent=agent.id, environment_id=environment.id, **session)
    return environment, agent, created


def only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = spans_named(exporter, name)
    return span


def test_session_created_events_sent_and_streamed(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    environment, agent, session = start_session(client)
    client.beta.sessions.events.send(session.id, events=USER_MESSAGE)
    events = [event.type for event in client.beta.sessions.events.stream(session.id)]

    # SDKs before 2.x pass on only the event types they knew, which did not include `session.usage`.
    assert events == ["session.status_running", "user.message", *sdk_yields(TURN_EVENTS), "session.status_idle"]
    assert [span.name for span in span_exporter.get_finished_spans()] == [
        "anthropic.environments.create",
        "anthropic.agents.create",
        "anthropic.sessions.create",
        "anthropic.sessions.events.send",
        "anthropic.sessions.events.stream",
    ]
    assert all(span.kind is SpanKind.CLIENT for span in span_exporter.get_finished_spans())
    env_span = only(span_exporter, "anthropic.environments.create")
    assert env_span.attributes["anthropic.environment.id"] == environment.id
    assert env_span.attributes["http.route"] == "/v1/environments"
    assert env_span.attributes["anthropic.request.id"].startswith("req_")
    assert only(span_exporter, "anthropic.agents.create").attributes["gen_ai.agent.id"] == agent.id
    created = only(span_exporter, "anthropic.sessions.create")
    keys = ("anthropic.session.id", "gen_ai.agent.id", "anthropic.session.environment.id", "gen_ai.agent.name")
    assert {key: created.attributes[key] for key in (*keys, "gen_ai.request.model")} == {
        "anthropic.session.id": session.id,
        "gen_ai.agent.id": agent.id,
        "anthropic.session.environment.id": environment.id,
        "gen_ai.agent.name": "triage",
        "gen_ai.request.model": MODEL,
    }
    assert created.status.status_code is StatusCode.OK
    sent = only(span_exporter, "anthropic.sessions.events.send")
    assert sent.attributes["anthropic.session.id"] == session.id
    assert sent.attributes["http.route"] == "/v1/sessions/{session_id}/events"
    stream = only(span_exporter, "anthropic.sessions.events.stream")
    assert stream.attributes["anthropic.session.id"] == session.id
    assert stream.attributes["http.route"] == "/v1/sessions/{session_id}/events/stream"
    assert stream.attributes["http.response.status_code"] == 200
    assert "error.type" not in stream.attributes
    # An event stream has no end event: reaching its end is no error and no success either (as the SDK).
    assert stream.status.status_code is StatusCode.UNSET


async def test_async_session_flow(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client(async_=True)
    environment = await client.beta.environments.create(name="triage-env")
    agent = await client.beta.agents.create(name="triage", model=MODEL)
    session = await client.beta.sessions.create(agent=agent.id, environment_id=environment.id)
    await client.beta.sessions.events.send(session.id, events=USER_MESSAGE)
    stream = await client.beta.sessions.events.stream(session.id)
    events = [event.type async for event in stream]

    assert len(events) == 3 + len(sdk_yields(TURN_EVENTS))
    names = [span.name for span in span_exporter.get_finished_spans()]
    assert names[-2:] == ["anthropic.sessions.events.send", "anthropic.sessions.events.stream"]
    assert only(span_exporter, "anthropic.sessions.events.stream").attributes["anthropic.session.id"] == session.id


def read_one_then(how: str, client: Any, session_id: str) -> None:
    """Stop reading a session's event stream in one of the ways an application does."""
    stream = client.beta.sessions.events.stream(session_id)
    if how == "exhausted":
        list(stream)
    elif how == "closed":
        next(iter(stream))
        stream.close()
    elif how == "with":
        with stream as events:
            next(iter(events))
    elif how == "break":
        for _ in stream:
            break
    elif how == "dropped":
        del stream
        gc.collect()


@pytest.mark.parametrize("how", ["exhausted", "closed", "with", "break", "dropped"])
def test_event_stream_span_ends_exactly_once(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, how: str
) -> None:
    client = make_client()
    _, _, session = start_session(client)
    span_exporter.clear()
    read_one_then(how, client, session.id)
    gc.collect()

    (span,) = span_exporter.get_finished_spans()
    assert span.name == "anthropic.sessions.events.stream"
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes


def test_event_stream_broken_mid_way_is_an_error(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    _, _, session = start_session(client, metadata={"fake_stream": "drop"})
    span_exporter.clear()
    stream = iter(client.beta.sessions.events.stream(session.id))
    assert next(stream).type == "session.status_running"
    with pytest.raises(BROKEN_CONNECTION):
        list(stream)
    gc.collect()

    (span,) = span_exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "connection_error"


def test_thread_is_the_conversation(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    _, _, session = start_session(client)
    (thread,) = client.beta.sessions.threads.list(session.id)
    span_exporter.clear()
    client.beta.sessions.threads.retrieve(thread.id, session_id=session.id)
    with conversation("support-chat-7"):
        client.beta.sessions.threads.retrieve(thread.id, session_id=session.id)

    first, second = spans_named(span_exporter, "anthropic.sessions.threads.retrieve")
    assert first.attributes["anthropic.session.id"] == session.id
    assert first.attributes["anthropic.session.thread.id"] == thread.id
    assert first.attributes["gen_ai.conversation.id"] == thread.id
    assert second.attributes["gen_ai.conversation.id"] == "support-chat-7"


def test_self_hosted_work_is_polled_and_acknowledged(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    environment = client.beta.environments.create(name="workers", config={"type": "self_hosted"})
    agent = client.beta.agents.create(name="worker", model=MODEL)
    session = client.beta.sessions.create(agent=agent.id, environment_id=environment.id)
    work = client.beta.environments.work.poll(environment.id)
    client.beta.environments.work.ack(work.id, environment_id=environment.id)

    assert work.data.id == session.id
    poll = only(span_exporter, "anthropic.environments.work.poll")
    assert poll.attributes["anthropic.environment.id"] == environment.id
    assert poll.attributes["http.route"] == "/v1/environments/{environment_id}/work/poll"
    ack = only(span_exporter, "anthropic.environments.work.ack")
    assert ack.attributes["anthropic.environment.id"] == environment.id
    assert ack.attributes["anthropic.environment.work.id"] == work.id


def test_list_calls_keep_only_defined_query_parameters(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    _, agent, _ = start_session(client)
    span_exporter.clear()
    list(client.beta.sessions.list(agent_id=agent.id, limit=5, created_at_gte="2026-01-01T00:00:00Z"))
    span = only(span_exporter, "anthropic.sessions.list")
    assert span.attributes["url.query"] == f"agent_id={agent.id}&created_at%5Bgte%5D=2026-01-01T00%3A00%3A00Z&limit=5"
    assert "anthropic.session.id" not in span.attributes


@pytest.mark.sdk_tracing_only
class TestWithTheSdksOwnTracing:
    """SDK 1.14+: the SDK's spans are the only ones, and ours on a client without tracing match them."""

    def run(self, make_client: ClientFactory, exporter: InMemorySpanExporter, sdk_tracing: bool) -> dict[str, Any]:
        exporter.clear()
        client = make_client(sdk_tracing=sdk_tracing)
        _, _, session = start_session(client)
        client.beta.sessions.events.send(session.id, events=USER_MESSAGE)
        list(client.beta.sessions.events.stream(session.id))
        (thread,) = client.beta.sessions.threads.list(session.id)
        client.beta.sessions.threads.retrieve(thread.id, session_id=session.id)
        list(client.beta.sessions.list(limit=2, created_at_gte="2026-01-01T00:00:00Z", statuses=["idle"]))
        return {span.name: span for span in exporter.get_finished_spans()}

    def test_one_span_per_call_the_sdks(self, make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
        spans = self.run(make_client, span_exporter, sdk_tracing=True)
        assert len(span_exporter.get_finished_spans()) == len(spans) == 8
        assert {span.instrumentation_scope.name for span in spans.values()} == {"com.anthropic.sdk.python"}

    def test_our_spans_mirror_the_sdks(self, make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
        ours, sdks = (self.run(make_client, span_exporter, sdk_tracing=flag) for flag in (False, True))
        assert sorted(ours) == sorted(sdks)
        variable = ("id", "ratelimit", "url.full", "url.path")
        for name, span in ours.items():
            sdk_span = sdks[name]
            assert sorted(span.attributes) == sorted(sdk_span.attributes), name
            assert {k: v for k, v in span.attributes.items() if not any(part in k for part in variable)} == {
                k: v for k, v in sdk_span.attributes.items() if not any(part in k for part in variable)
            }, name
            assert (span.kind, span.status.status_code) == (sdk_span.kind, sdk_span.status.status_code), name
