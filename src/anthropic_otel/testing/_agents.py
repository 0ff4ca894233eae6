"""Managed agents for the fake API: agents, environments, sessions, their events, threads and work.

Enough of the beta Managed Agents API for the SDK's `beta.agents`, `beta.environments` (with
`work`) and `beta.sessions` (with `events`, `threads`, `resources`) to run against: objects are
kept in memory with realistic fields, ids have the API's prefixes, lists are one page. Sending a
`user.message` to a session runs one model request of the agent's: its events are
`span.model_request_start`, `span.model_request_end` (with that request's `model_usage`), the
`agent.message` and a `session.usage` snapshot (the session's cumulative usage). `events.stream()`
is an SSE stream of the session's events (`session.status_running`, the events so far,
`session.status_idle`) that then ends, as a real stream does when the server closes it. A session
created with `metadata.fake_stream="drop"` breaks its stream's connection midway instead.

Usage is reported as the API reports it, cumulatively, in three places: the session's `usage`, its
primary thread's `usage`, and the `session.usage` events; each model request's own usage in its
`span.model_request_end` event. A user message of N characters costs 12 + N // 4 input and 8 output
tokens, 4 of the input read from the prompt cache after the first turn.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Optional

from anthropic_otel.testing._agent_objects import (
    agent_object,
    environment_object,
    new_id,
    now,
    session_object,
    thread_of,
    turn_events,
    work_object,
)

__all__ = ["AgentStore", "Answer"]

# ("json", payload) or ("sse", events) or ("drop", events): what the server sends back.
Answer = tuple[str, Any]


def _page(items: list[dict[str, Any]]) -> Answer:
    return ("json", {"data": items, "next_page": None})


class AgentStore:
    """The agents, environments and sessions one fake API knows; thread-safe."""

    def __init__(self) -> None:
        self._agents: dict[str, dict[str, Any]] = {}
        self._environments: dict[str, dict[str, Any]] = {}
        self._sessions: dict[str, dict[str, Any]] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._work: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._routes: tuple[tuple[str, re.Pattern[str], Callable[..., Optional[Answer]]], ...] = tuple(
            (method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route) + r"\Z"), handler)
            for method, route, handler in (
                ("POST", "/v1/agents", self._create_agent),
                ("GET", "/v1/agents", lambda body: _page(list(self._agents.values()))),
                ("GET", "/v1/agents/{agent_id}", lambda body, agent_id: self._found(self._agents, agent_id)),
                ("POST", "/v1/agents/{agent_id}", self._update_agent),
                ("POST", "/v1/agents/{agent_id}/archive", lambda body, agent_id: self._archive(self._agents, agent_id)),
                ("GET", "/v1/agents/{agent_id}/versions", self._agent_versions),
                ("POST", "/v1/environments", self._create_environment),
                ("GET", "/v1/environments", lambda body: _page(list(self._environments.values()))),
                (
                    "GET",
                    "/v1/environments/{environment_id}",
                    lambda body, environment_id: self._found(self._environments, environment_id),
                ),
                (
                    "POST",
                    "/v1/environments/{environment_id}/archive",
                    lambda body, environment_id: self._archive(self._environments, environment_id),
                ),
                (
                    "DELETE",
                    "/v1/environments/{environment_id}",
                    lambda body, environment_id: self._delete(
                        self._environments, environment_id, "environment_deleted"
                    ),
                ),
                ("GET", "/v1/environments/{environment_id}/work", self._list_work),
                ("GET", "/v1/environments/{environment_id}/work/poll", self._poll_work),
                ("GET", "/v1/environments/{environment_id}/work/{work_id}", self._get_work),
                ("POST", "/v1/environments/{environment_id}/work/{work_id}/ack", self._ack_work),
                ("POST", "/v1/sessions", self._create_session),
                ("GET", "/v1/sessions", lambda body: _page(list(self._sessions.values()))),
                ("GET", "/v1/sessions/{session_id}", lambda body, session_id: self._found(self._sessions, session_id)),
                (
                    "POST",
                    "/v1/sessions/{session_id}/archive",
                    lambda body, session_id: self._archive(self._sessions, session_id),
                ),
                (
                    "DELETE",
                    "/v1/sessions/{session_id}",
                    lambda body, session_id: self._delete(self._sessions, session_id, "session_deleted"),
                ),
                ("GET", "/v1/sessions/{session_id}/events", self._list_events),
                ("POST", "/v1/sessions/{session_id}/events", self._send_events),
                ("GET", "/v1/sessions/{session_id}/events/stream", self._stream_events),
                ("GET", "/v1/sessions/{session_id}/threads", self._list_threads),
                ("GET", "/v1/sessions/{session_id}/threads/{thread_id}", self._get_thread),
                ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/stream", self._stream_thread),
            )
        )

    def answer(self, method: str, path: str, body: dict[str, Any]) -> Optional[Answer]:
        """What a request to a managed-agents route gets; None for an unknown route or object (a 404)."""
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match and route_method == method:
                with self._lock:
                    return handler(body, **match.groupdict())
        return None

    # -- generic -----------------------------------------------------------------------------
    @staticmethod
    def _found(objects: dict[str, dict[str, Any]], key: str) -> Optional[Answer]:
        found = objects.get(key)
        return None if found is None else ("json", found)

    @staticmethod
    def _archive(objects: dict[str, dict[str, Any]], key: str) -> Optional[Answer]:
        found = objects.get(key)
        if found is None:
            return None
        found["archived_at"] = now()
        return ("json", found)

    @staticmethod
    def _delete(objects: dict[str, dict[str, Any]], key: str, kind: str) -> Optional[Answer]:
        return None if objects.pop(key, None) is None else ("json", {"id": key, "type": kind})

    # -- agents ------------------------------------------------------------------------------
    def _create_agent(self, body: dict[str, Any]) -> Answer:
        agent = agent_object(body)
        self._agents[agent["id"]] = agent
        return ("json", agent)

    def _update_agent(self, body: dict[str, Any], agent_id: str) -> Optional[Answer]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return None
        agent.update(
            {key: value for key, value in body.items() if key in ("name", "description", "system", "metadata")}
        )
        agent["version"] += 1
        agent["updated_at"] = now()
        return ("json", agent)

    def _agent_versions(self, body: dict[str, Any], agent_id: str) -> Optional[Answer]:
        agent = self._agents.get(agent_id)
        return None if agent is None else _page([agent])

    # -- environments and work ---------------------------------------------------------------
    def _create_environment(self, body: dict[str, Any]) -> Answer:
        environment = environment_object(body)
        self._environments[environment["id"]] = environment
        return ("json", environment)

    def _list_work(self, body: dict[str, Any], environment_id: str) -> Answer:
        return _page([work for work in self._work.values() if work["environment_id"] == environment_id])

    def _poll_work(self, body: dict[str, Any], environment_id: str) -> Optional[Answer]:
        queued = [w for w in self._work.values() if w["environment_id"] == environment_id and w["state"] == "queued"]
        return ("json", queued[0]) if queued else None

    def _get_work(self, body: dict[str, Any], environment_id: str, work_id: str) -> Optional[Answer]:
        work = self._work.get(work_id)
        return ("json", work) if work is not None and work["environment_id"] == environment_id else None

    def _ack_work(self, body: dict[str, Any], environment_id: str, work_id: str) -> Optional[Answer]:
        work = self._work.get(work_id)
        if work is None or work["environment_id"] != environment_id:
            return None
        work.update(state="active", acknowledged_at=now(), started_at=now())
        return ("json", work)

    # -- sessions ----------------------------------------------------------------------------
    def _create_session(self, body: dict[str, Any]) -> Optional[Answer]:
        reference = body.get("agent")
        agent_id = reference if isinstance(reference, str) else (reference or {}).get("id")
        agent = self._agents.get(str(agent_id))
        environment_id = str(body.get("environment_id"))
        if agent is None or environment_id not in self._environments:
            return None
        session = session_object(body, agent, environment_id)
        self._sessions[session["id"]] = session
        self._events[session["id"]] = []
        if self._environments[environment_id]["config"].get("type") == "self_hosted":
            work = work_object(environment_id, session["id"])
            self._work[work["id"]] = work
        return ("json", session)

    def _list_events(self, body: dict[str, Any], session_id: str) -> Optional[Answer]:
        events = self._events.get(session_id)
        return None if events is None else _page(list(events))

    def _send_events(self, body: dict[str, Any], session_id: str) -> Optional[Answer]:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        sent = []
        events: list[dict[str, Any]] = list(body.get("events") or [])
        for event in events:
            sent.append({**event, "id": new_id("sevt"), "processed_at": now()})
            if event.get("type") == "user.message":
                text = "".join(block.get("text", "") for block in event.get("content") or [] if isinstance(block, dict))
                sent.extend(turn_events(session, text))
        self._events[session_id].extend(sent)
        session["updated_at"] = now()
        return ("json", {"data": [event for event in sent if event["type"].startswith("user.")]})

    def _stream_events(self, body: dict[str, Any], session_id: str) -> Optional[Answer]:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        running = {"id": new_id("sevt"), "type": "session.status_running", "processed_at": now()}
        idle = {
            "id": new_id("sevt"),
            "type": "session.status_idle",
            "stop_reason": {"type": "end_turn"},
            "processed_at": now(),
        }
        events = [running, *self._events[session_id], idle]
        kind = "drop" if session["metadata"].get("fake_stream") == "drop" else "sse"
        return (kind, [(event["type"], event) for event in events])

    def _list_threads(self, body: dict[str, Any], session_id: str) -> Optional[Answer]:
        session = self._sessions.get(session_id)
        return None if session is None else _page([thread_of(session)])

    def _get_thread(self, body: dict[str, Any], session_id: str, thread_id: str) -> Optional[Answer]:
        session = self._sessions.get(session_id)
        if session is None or thread_id != thread_of(session)["id"]:
            return None
        return ("json", thread_of(session))

    def _stream_thread(self, body: dict[str, Any], session_id: str, thread_id: str) -> Optional[Answer]:
        return None if self._get_thread(body, session_id, thread_id) is None else self._stream_events(body, session_id)
