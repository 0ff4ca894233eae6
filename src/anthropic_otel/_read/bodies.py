"""What a response body gives, for every kind of call: span attributes, the usage to count, the model.

One entry per question, dispatching on the operation's kind, so that the end of a call reads a
Messages API answer, a batch, a managed-agents object and an OpenAI-format chat completion the
same way. Pure, like the readers it dispatches to.
"""

from __future__ import annotations

from typing import Any, Optional

from anthropic_otel._read import chat_completions
from anthropic_otel._read.attributes import Attributes, field, response_attributes
from anthropic_otel._read.operations import Operation
from anthropic_otel._read.resource_attributes import resource_response_attributes

__all__ = ["body_attributes", "body_model", "body_usage"]


def body_attributes(operation: Operation, body: object) -> Attributes:
    """What a successful response body (a model, decoded JSON, or what a stream showed) gives the span."""
    kind = operation.kind
    if kind == "chat_completion":
        return chat_completions.response_attributes(body)
    if kind in ("batch", "managed"):
        return resource_response_attributes(operation, body)
    return response_attributes(operation, body)


def body_usage(operation: Operation, body: object) -> Any:
    """The usage that token metrics and cost are made from, in the Messages API's shape; None if none."""
    if not operation.is_generation or body is None:
        return None
    usage = field(body, "usage")
    return chat_completions.usage_of(usage) if operation.kind == "chat_completion" else usage


def body_model(body: object, fallback: object) -> Optional[str]:
    """The model that answered, else `fallback` (the model asked for)."""
    model = field(body, "model")
    if isinstance(model, str):
        return model
    return fallback if isinstance(fallback, str) else None
