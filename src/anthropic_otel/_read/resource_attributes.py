"""Attributes of the calls that are not model calls: Message Batches and managed agents.

Pure functions, as `attributes`, for the operations whose spans carry ids rather than tokens.
Keys are the SDK's own (2.13 `span_attributes`, `span_created_id` and `SPAN_ATTRIBUTES`) where it
records something, so that our spans on older SDKs look like its spans on newer ones:

- the ids in the path (`anthropic.session.id`, `gen_ai.agent.id`, `anthropic.environment.id`,
  `anthropic.message.batch.id`, ...), and a session thread's id as `gen_ai.conversation.id`;
- the id of what a `create` made, from the response;
- `anthropic.message.batch.request_count` on batch `create`; `anthropic.session.environment.id`,
  `gen_ai.agent.id`, `gen_ai.agent.name` and the agent's model on `sessions.create`.

What the SDK leaves out and both paths get: a batch's `processing_status` and its five
`request_counts` from every response that is a batch (`create`, `retrieve`, `cancel`).
"""

from __future__ import annotations

from typing import Optional

from anthropic_otel._read.attributes import Attributes, field, int_field
from anthropic_otel._read.operations import Operation, path_ids
from anthropic_otel._read.sessions import session_usage_attributes

__all__ = ["resource_request_attributes", "resource_response_attributes"]

_BATCH_COUNTS = ("processing", "succeeded", "errored", "canceled", "expired")


def _string(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def resource_request_attributes(operation: Operation, url: str, body: object) -> Attributes:
    """What a batch or managed-agents span starts with: the ids in its path and in its request body."""
    if operation.kind not in ("batch", "managed", "event_stream"):
        return {}
    attributes: Attributes = dict(path_ids(operation, url))
    thread = attributes.get("anthropic.session.thread.id")
    if thread is not None:
        # The SDK's rule: a session thread is a conversation (an explicit `conversation()` wins later).
        attributes["gen_ai.conversation.id"] = thread
    if operation.name == "anthropic.messages.batches.create":
        requests = field(body, "requests")
        if isinstance(requests, list):
            attributes["anthropic.message.batch.request_count"] = len(requests)
    elif operation.name == "anthropic.sessions.create":
        environment = _string(field(body, "environment_id"))
        if environment is not None:
            attributes["anthropic.session.environment.id"] = environment
        agent = field(body, "agent")
        agent_id = _string(agent) or _string(field(agent, "id"))
        if agent_id is not None:
            attributes["gen_ai.agent.id"] = agent_id
    return attributes


def resource_response_attributes(operation: Operation, data: object) -> Attributes:
    """What a successful batch or managed-agents response (or session event stream) gives its span."""
    if operation.kind not in ("batch", "managed", "event_stream"):
        return {}
    attributes: Attributes = {}
    if operation.kind != "batch":
        attributes.update(session_usage_attributes(data))
        if field(data, "type") == "session":
            agent_id = _string(field(data, "agent", "id"))
            if agent_id is not None:
                attributes["gen_ai.agent.id"] = agent_id
    if operation.created_id is not None:
        created = _string(field(data, "id"))
        if created is not None:
            attributes[operation.created_id] = created
    if operation.kind == "batch" and field(data, "type") == "message_batch":
        status = _string(field(data, "processing_status"))
        if status is not None:
            attributes["anthropic.message.batch.processing_status"] = status
        for name in _BATCH_COUNTS:
            count = int_field(data, "request_counts", name)
            if count is not None:
                attributes[f"anthropic.message.batch.request_counts.{name}"] = count
    elif operation.name == "anthropic.sessions.create":
        agent_name = _string(field(data, "agent", "name"))
        if agent_name is not None:
            attributes["gen_ai.agent.name"] = agent_name
        model = _string(field(data, "agent", "model", "id"))
        if model is not None:
            attributes["gen_ai.request.model"] = model
    return attributes
