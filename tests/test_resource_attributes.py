"""Batch and managed-agents attributes from plain data: the route table, path ids, bodies."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from anthropic_otel._read.attributes import url_attributes
from anthropic_otel._read.operations import _TABLE, operation_for
from anthropic_otel._read.resource_attributes import resource_request_attributes, resource_response_attributes


@pytest.mark.parametrize(
    ("method", "url", "name", "route"),
    [
        ("POST", "/v1/sessions?beta=true", "anthropic.sessions.create", "/v1/sessions"),
        ("GET", "/v1/sessions/s1/events/stream?beta=true", "anthropic.sessions.events.stream", None),
        ("GET", "/v1/sessions/s1/threads/t1/stream", "anthropic.sessions.threads.events.stream", None),
        ("GET", "/v1/environments/e1/work/poll", "anthropic.environments.work.poll", None),
        ("GET", "/v1/environments/e1/work/w1", "anthropic.environments.work.retrieve", None),
        ("POST", "/v1/agents/a1/archive", "anthropic.agents.archive", "/v1/agents/{agent_id}/archive"),
        ("GET", "/v1/agents/a1/versions", "anthropic.agents.versions.list", None),
        ("PUT", "/v1/agents/a1", None, None),
        ("GET", "/v1/sessions/s1/unknown", None, None),
    ],
)
def test_managed_agent_routes(method: str, url: str, name: Optional[str], route: Optional[str]) -> None:
    operation = operation_for(method, url)
    assert (operation.name if operation else None) == name
    if route is not None and operation is not None:
        assert operation.route == route


def test_every_route_has_one_name_and_event_streams_are_marked() -> None:
    names = [f"anthropic.{path}" for _, _, path, _, _ in _TABLE]
    assert len(names) == len(set(names)) == 45
    streams = {name for name in names if operation_for_name(name).is_event_stream}
    assert streams == {"anthropic.sessions.events.stream", "anthropic.sessions.threads.events.stream"}
    assert operation_for_name("anthropic.messages.batches.create").metric_operation == "batches.create"
    assert operation_for_name("anthropic.sessions.events.send").metric_operation == "sessions.events.send"


def operation_for_name(name: str) -> Any:
    for method, route, path, _, _ in _TABLE:
        if f"anthropic.{path}" == name:
            return operation_for(method, route.replace("{", "x").replace("}", ""))
    raise AssertionError(name)


def test_path_ids_are_the_sdks_keys_decoded() -> None:
    operation = operation_for("POST", "/v1/environments/env%2F1/work/w1/ack")
    assert operation is not None
    assert resource_request_attributes(operation, "/v1/environments/env%2F1/work/w1/ack?beta=true", None) == {
        "anthropic.environment.id": "env/1",
        "anthropic.environment.work.id": "w1",
    }


def test_thread_id_is_the_conversation() -> None:
    url = "/v1/sessions/s1/threads/t1"
    operation = operation_for("GET", url)
    assert operation is not None
    assert resource_request_attributes(operation, url, None) == {
        "anthropic.session.id": "s1",
        "anthropic.session.thread.id": "t1",
        "gen_ai.conversation.id": "t1",
    }


@pytest.mark.parametrize(
    ("agent", "expected"),
    [("agent_1", "agent_1"), ({"type": "agent", "id": "agent_2", "version": 3}, "agent_2"), (None, None)],
)
def test_sessions_create_request(agent: Any, expected: Optional[str]) -> None:
    operation = operation_for("POST", "/v1/sessions")
    assert operation is not None
    attributes = resource_request_attributes(operation, "/v1/sessions", {"agent": agent, "environment_id": "env_1"})
    assert attributes.get("gen_ai.agent.id") == expected
    assert attributes["anthropic.session.environment.id"] == "env_1"


def test_sessions_create_response() -> None:
    operation = operation_for("POST", "/v1/sessions")
    assert operation is not None
    body = {"id": "sesn_1", "agent": {"id": "agent_1", "name": "triage", "model": {"id": "claude-opus-4-6"}}}
    assert resource_response_attributes(operation, body) == {
        "anthropic.session.id": "sesn_1",
        "gen_ai.agent.name": "triage",
        "gen_ai.request.model": "claude-opus-4-6",
    }


def test_batch_request_count_and_bad_bodies() -> None:
    create = operation_for("POST", "/v1/messages/batches")
    assert create is not None
    assert resource_request_attributes(create, "/v1/messages/batches", {"requests": [{}, {}]}) == {
        "anthropic.message.batch.request_count": 2
    }
    assert resource_request_attributes(create, "/v1/messages/batches", {"requests": "x"}) == {}
    assert (
        resource_response_attributes(create, {"id": 7, "type": "message_batch", "request_counts": {"errored": "1"}})
        == {}
    )


def test_message_calls_get_none_of_these() -> None:
    operation = operation_for("POST", "/v1/messages")
    assert operation is not None
    assert resource_request_attributes(operation, "/v1/messages", {"model": "m"}) == {}
    assert resource_response_attributes(operation, {"id": "msg_1"}) == {}


def test_url_query_names_are_decoded_and_arrays_kept() -> None:
    attributes = url_attributes(
        "https",
        "api.anthropic.com",
        "/v1/sessions",
        "created_at%5Bgte%5D=2026&statuses%5B%5D=idle&secret=1&limit=2",
        frozenset({"created_at[gte]", "statuses", "limit"}),
    )
    assert attributes["url.query"] == "created_at%5Bgte%5D=2026&statuses%5B%5D=idle&limit=2"
