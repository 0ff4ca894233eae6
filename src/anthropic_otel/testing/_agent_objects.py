"""The objects of the fake managed-agents API (`_agents`): agents, environments, sessions, threads,
work, and the events of one turn of a session, shaped like the API's."""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

__all__ = [
    "agent_object",
    "environment_object",
    "new_id",
    "now",
    "session_object",
    "thread_of",
    "turn_events",
    "work_object",
]

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):024x}"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def agent_object(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model") or "claude-sonnet-4-6"
    agent: dict[str, Any] = {
        "id": new_id("agent"),
        "type": "agent",
        "name": body.get("name") or "fake agent",
        "description": body.get("description"),
        "system": body.get("system"),
        "model": model if isinstance(model, dict) else {"id": model, "speed": "standard"},
        "tools": list(body.get("tools") or []),
        "mcp_servers": list(body.get("mcp_servers") or []),
        "skills": list(body.get("skills") or []),
        "metadata": dict(body.get("metadata") or {}),
        "execution_identity": {"type": "agent"},
        "version": 1,
        "created_at": now(),
        "updated_at": now(),
        "archived_at": None,
    }
    return agent


def environment_object(body: dict[str, Any]) -> dict[str, Any]:
    environment: dict[str, Any] = {
        "id": new_id("env"),
        "type": "environment",
        "name": body.get("name") or "fake environment",
        "description": body.get("description"),
        "config": body.get("config") or {"type": "cloud", "networking": {"type": "unrestricted"}},
        "metadata": dict(body.get("metadata") or {}),
        "scope": "account",
        "created_at": now(),
        "updated_at": now(),
        "archived_at": None,
    }
    return environment


def session_object(body: dict[str, Any], agent: dict[str, Any], environment_id: str) -> dict[str, Any]:
    session_agent = {key: agent[key] for key in ("id", "type", "name", "description", "system", "model", "tools")}
    session_agent.update(mcp_servers=agent["mcp_servers"], skills=agent["skills"], version=agent["version"])
    session_agent["execution_identity"] = agent["execution_identity"]
    session: dict[str, Any] = {
        "id": new_id("sesn"),
        "type": "session",
        "agent": session_agent,
        "environment_id": environment_id,
        "status": "idle",
        "title": body.get("title"),
        "metadata": dict(body.get("metadata") or {}),
        "resources": [],
        "outcome_evaluations": [],
        "vault_ids": list(body.get("vault_ids") or []),
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        },
        "created_at": now(),
        "updated_at": now(),
        "archived_at": None,
    }
    return session


def work_object(environment_id: str, session_id: str) -> dict[str, Any]:
    work: dict[str, Any] = {
        "id": new_id("work"),
        "type": "work",
        "environment_id": environment_id,
        "data": {"type": "session", "id": session_id},
        "state": "queued",
        "metadata": {},
        "created_at": now(),
    }
    return work


def turn_events(session: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The events of the agent's answer to a user message, and the usage it adds to the session."""
    usage = session["usage"]
    read = 4 if usage["input_tokens"] else 0
    model_usage = {
        "input_tokens": 12 + len(text) // 4 - read,
        "output_tokens": 8,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": 0,
    }
    usage["input_tokens"] += model_usage["input_tokens"]
    usage["output_tokens"] += 8
    usage["cache_read_input_tokens"] += read
    start = {"id": new_id("sevt"), "type": "span.model_request_start", "processed_at": now()}
    end = {
        "id": new_id("sevt"),
        "type": "span.model_request_end",
        "model_request_start_id": start["id"],
        "model_usage": model_usage,
        "is_error": False,
        "processed_at": now(),
    }
    message = {
        "id": new_id("sevt"),
        "type": "agent.message",
        "content": [{"type": "text", "text": f"Done: {text}"}],
        "processed_at": now(),
    }
    snapshot = {"id": new_id("sevt"), "type": "session.usage", "usage": copy.deepcopy(usage), "processed_at": now()}
    return [start, end, message, snapshot]


def thread_of(session: dict[str, Any]) -> dict[str, Any]:
    """A session's primary thread: one per session, id derived from the session's."""
    agent = session["agent"]
    return {
        "id": "sthr_" + session["id"].partition("_")[2],
        "type": "session_thread",
        "session_id": session["id"],
        "agent": {"id": agent["id"], "name": agent["name"], "type": "agent", "version": agent["version"]},
        "parent_thread_id": None,
        "status": session["status"],
        "usage": copy.deepcopy(session["usage"]),  # the primary thread has done all the session's turns
        "created_at": session["created_at"],
        "updated_at": session["updated_at"],
        "archived_at": None,
    }
