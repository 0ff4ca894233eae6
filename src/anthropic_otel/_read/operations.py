"""Which SDK calls get telemetry, and what they are called.

The instrumentation sits at the SDK's one choke point, `APIClient.request`, which every resource
method (stable or beta, first-party or Bedrock/Vertex/Foundry, plain or through
`with_raw_response`) goes through once per call. There the call is known only by its HTTP method
and path, so this table maps those to the span name the SDK's own tracing (1.14+) gives the same
call, and to the route template it records as `http.route`. Keeping the names identical means
telemetry does not change when users upgrade the SDK.

The route templates also say which ids a call carries in its path: `{session_id}` and the like
become span attributes (`PATH_ATTRIBUTES`), exactly as the SDK's resource methods put them on
their spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote

__all__ = [
    "CHAT_COMPLETIONS_CREATE",
    "CUSTOM_OPERATIONS",
    "PATH_ATTRIBUTES",
    "REGISTRY_OPERATIONS",
    "Operation",
    "operation_for",
    "path_ids",
]

# Path parameter -> the span attribute the SDK (2.13) records it as.
PATH_ATTRIBUTES = {
    "message_batch_id": "anthropic.message.batch.id",
    "agent_id": "gen_ai.agent.id",
    "session_id": "anthropic.session.id",
    "thread_id": "anthropic.session.thread.id",
    "resource_id": "anthropic.session.resource.id",
    "environment_id": "anthropic.environment.id",
    "work_id": "anthropic.environment.work.id",
}


@dataclass(frozen=True)
class Operation:
    """One kind of API call.

    `name` is the SDK's span name; `gen_ai_operation` the semantic-convention operation name the
    SDK puts on the span (`None` where it puts none); `metric_operation` what metrics use as
    `gen_ai.operation.name`, which semconv requires, so operations without a semconv name get
    their method name; `kind` tells the attribute extractors which response shape to expect;
    `created_id` is the attribute that the `id` of a created object is recorded as.
    """

    name: str
    gen_ai_operation: Optional[str]
    metric_operation: str
    kind: str
    route: str
    query_params: frozenset[str] = frozenset()
    created_id: Optional[str] = None

    @property
    def is_generation(self) -> bool:
        """Whether the call spends tokens, so that token metrics apply."""
        return self.kind in ("message", "completion", "chat_completion")

    @property
    def is_event_stream(self) -> bool:
        """Whether the call streams server-sent events that have no end event (managed-agent sessions)."""
        return self.kind == "event_stream"


MESSAGES_CREATE = Operation("anthropic.messages.create", "chat", "chat", "message", "/v1/messages")
COUNT_TOKENS = Operation(
    "anthropic.messages.count_tokens", None, "count_tokens", "count_tokens", "/v1/messages/count_tokens"
)
COMPLETIONS_CREATE = Operation(
    "anthropic.completions.create", "text_completion", "text_completion", "completion", "/v1/complete"
)
# A chat completion sent through the `openai` SDK to the Claude API's OpenAI compatibility layer:
# `anthropic.` + the path after /v1, like `anthropic.messages.create` for `/v1/messages`.
CHAT_COMPLETIONS_CREATE = Operation(
    "anthropic.chat.completions.create", "chat", "chat", "chat_completion", "/v1/chat/completions"
)
_PAGE = ("limit", "page")
_DELTAS = ("event_deltas",)
_POLL = ("block_ms", "reclaim_older_than_ms")
_CREATED = ("created_at[gt]", "created_at[gte]", "created_at[lt]", "created_at[lte]")

# (HTTP method, route template, SDK method path, query parameters the endpoint defines, created-id attribute).
# Read off the SDK 2.13 resource methods (`span_name`, `span_route`, `query`, `span_created_id`);
# the routes are the same from 0.92 (agents, sessions) and 0.103 (environments) on.
_TABLE: tuple[tuple[str, str, str, tuple[str, ...], Optional[str]], ...] = (
    ("POST", "/v1/messages/batches", "messages.batches.create", (), "anthropic.message.batch.id"),
    ("GET", "/v1/messages/batches", "messages.batches.list", ("limit", "before_id", "after_id"), None),
    ("GET", "/v1/messages/batches/{message_batch_id}", "messages.batches.retrieve", (), None),
    ("POST", "/v1/messages/batches/{message_batch_id}/cancel", "messages.batches.cancel", (), None),
    ("DELETE", "/v1/messages/batches/{message_batch_id}", "messages.batches.delete", (), None),
    ("GET", "/v1/messages/batches/{message_batch_id}/results", "messages.batches.results", (), None),
    ("POST", "/v1/agents", "agents.create", (), "gen_ai.agent.id"),
    ("GET", "/v1/agents", "agents.list", ("include_archived", *_PAGE, "created_at[gte]", "created_at[lte]"), None),
    ("GET", "/v1/agents/{agent_id}", "agents.retrieve", ("version",), None),
    ("POST", "/v1/agents/{agent_id}", "agents.update", (), None),
    ("POST", "/v1/agents/{agent_id}/archive", "agents.archive", (), None),
    ("GET", "/v1/agents/{agent_id}/versions", "agents.versions.list", _PAGE, None),
    ("POST", "/v1/sessions", "sessions.create", (), "anthropic.session.id"),
    (
        "GET",
        "/v1/sessions",
        "sessions.list",
        (
            "agent_id",
            "agent_version",
            "deployment_id",
            "include_archived",
            "memory_store_id",
            "order",
            "statuses",
            *_PAGE,
            *_CREATED,
        ),
        None,
    ),
    ("GET", "/v1/sessions/{session_id}", "sessions.retrieve", (), None),
    ("POST", "/v1/sessions/{session_id}", "sessions.update", (), None),
    ("DELETE", "/v1/sessions/{session_id}", "sessions.delete", (), None),
    ("POST", "/v1/sessions/{session_id}/archive", "sessions.archive", (), None),
    ("GET", "/v1/sessions/{session_id}/events", "sessions.events.list", ("order", "types", *_PAGE, *_CREATED), None),
    ("POST", "/v1/sessions/{session_id}/events", "sessions.events.send", (), None),
    ("GET", "/v1/sessions/{session_id}/events/stream", "sessions.events.stream", ("event_deltas",), None),
    ("GET", "/v1/sessions/{session_id}/resources", "sessions.resources.list", _PAGE, None),
    ("POST", "/v1/sessions/{session_id}/resources", "sessions.resources.add", (), "anthropic.session.resource.id"),
    ("GET", "/v1/sessions/{session_id}/resources/{resource_id}", "sessions.resources.retrieve", (), None),
    ("POST", "/v1/sessions/{session_id}/resources/{resource_id}", "sessions.resources.update", (), None),
    ("DELETE", "/v1/sessions/{session_id}/resources/{resource_id}", "sessions.resources.delete", (), None),
    ("GET", "/v1/sessions/{session_id}/threads", "sessions.threads.list", ("statuses", *_PAGE), None),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}", "sessions.threads.retrieve", (), None),
    ("POST", "/v1/sessions/{session_id}/threads/{thread_id}/archive", "sessions.threads.archive", (), None),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/events", "sessions.threads.events.list", _PAGE, None),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/stream", "sessions.threads.events.stream", _DELTAS, None),
    ("POST", "/v1/environments", "environments.create", (), "anthropic.environment.id"),
    ("GET", "/v1/environments", "environments.list", ("include_archived", *_PAGE), None),
    ("GET", "/v1/environments/{environment_id}", "environments.retrieve", (), None),
    ("POST", "/v1/environments/{environment_id}", "environments.update", (), None),
    ("DELETE", "/v1/environments/{environment_id}", "environments.delete", (), None),
    ("POST", "/v1/environments/{environment_id}/archive", "environments.archive", (), None),
    ("GET", "/v1/environments/{environment_id}/work", "environments.work.list", _PAGE, None),
    ("GET", "/v1/environments/{environment_id}/work/poll", "environments.work.poll", _POLL, None),
    ("GET", "/v1/environments/{environment_id}/work/stats", "environments.work.stats", (), None),
    ("GET", "/v1/environments/{environment_id}/work/{work_id}", "environments.work.retrieve", (), None),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}", "environments.work.update", (), None),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}/ack", "environments.work.ack", (), None),
    (
        "POST",
        "/v1/environments/{environment_id}/work/{work_id}/heartbeat",
        "environments.work.heartbeat",
        ("desired_ttl_seconds", "expected_last_heartbeat"),
        None,
    ),
    ("POST", "/v1/environments/{environment_id}/work/{work_id}/stop", "environments.work.stop", (), None),
)


def _kind(method_path: str) -> str:
    if method_path.startswith("messages.batches."):
        return "batch"
    return "event_stream" if method_path.endswith("events.stream") else "managed"


# Where semconv's registry has a well-known `gen_ai.operation.name` for a call, metrics use it (it
# MUST, the registry says); for the rest, which it has none for, a custom value MAY be used: the method.
_REGISTRY_NAMES = {"agents.create": "create_agent"}


def _operation(route: str, method_path: str, params: tuple[str, ...], created_id: Optional[str]) -> Operation:
    metric = _REGISTRY_NAMES.get(method_path) or method_path.removeprefix("messages.")
    return Operation(f"anthropic.{method_path}", None, metric, _kind(method_path), route, frozenset(params), created_id)


def _pattern(route: str) -> re.Pattern[str]:
    """A route template as a regex: each `{name}` matches one path segment, captured as `name`."""
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route) + r"\Z")


_ROUTES: tuple[tuple[str, re.Pattern[str], Operation], ...] = (
    ("POST", _pattern("/v1/messages"), MESSAGES_CREATE),
    ("POST", _pattern("/v1/messages/count_tokens"), COUNT_TOKENS),
    ("POST", _pattern("/v1/complete"), COMPLETIONS_CREATE),
    *(
        (method, _pattern(route), _operation(route, path, params, created))
        for method, route, path, params, created in _TABLE
    ),
)


def _path(url: str) -> str:
    path = url.partition("?")[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path


def operation_for(method: str, url: str) -> Operation | None:
    """The operation of a request with HTTP `method` to `url` (as the SDK's options hold it).

    `url` is usually a path such as `/v1/messages?beta=true`; an absolute URL (a batch's
    `results_url`) is reduced to its path. Anything not in the table gets no telemetry.
    """
    path = _path(url)
    method = method.upper()
    for route_method, pattern, operation in _ROUTES:
        if route_method == method and pattern.match(path):
            return operation
    return None


# The registry's well-known values of `gen_ai.operation.name` that calls and runs are recorded with.
REGISTRY_OPERATIONS = frozenset({"chat", "text_completion", "create_agent", "invoke_agent", "execute_tool"})
# The custom values metrics use for calls the registry has no operation for (docs/metrics.md lists them).
CUSTOM_OPERATIONS = frozenset(operation.metric_operation for _, _, operation in _ROUTES) - REGISTRY_OPERATIONS

_PATTERNS = {operation.name: pattern for _, pattern, operation in _ROUTES if "{" in operation.route}


def path_ids(operation: Operation, url: str) -> dict[str, str]:
    """The ids in the path of a call to `url` (`{session_id}`, ...), keyed by the SDK's attribute names."""
    pattern = _PATTERNS.get(operation.name)
    match = pattern.match(_path(url)) if pattern is not None else None
    if match is None:
        return {}
    return {
        PATH_ATTRIBUTES[name]: unquote(value) for name, value in match.groupdict().items() if name in PATH_ATTRIBUTES
    }
