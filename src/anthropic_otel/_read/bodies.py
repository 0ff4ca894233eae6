"""What a response body gives, for every kind of call: span attributes, the usage to count, the model.

One entry per question, dispatching on the operation's kind, so that the end of a call reads a
Messages API answer, a batch, a managed-agents object and an OpenAI-format chat completion the
same way. Pure, like the readers it dispatches to.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from anthropic_otel._read import chat_completions
from anthropic_otel._read.attributes import Attributes, field, ints, response_attributes
from anthropic_otel._read.operations import Operation
from anthropic_otel._read.resource_attributes import resource_response_attributes

__all__ = ["UsageCounts", "body_attributes", "body_model", "body_usage", "usage_counts"]


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


# A count no metric can take (a histogram turns it into a float): left out, as a garbage value is.
_COUNTABLE = 10**300
_CACHE_SPLIT = ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens")


class UsageCounts(NamedTuple):
    """What a usage object counts, as the metrics count it: `input` (uncached + cache read + cache
    write) and `output` tokens; cache reads and writes by TTL (`read`, `write_5m`, `write_1h`); and
    server tool requests (`web_search`, `web_fetch`)."""

    tokens: dict[str, int]
    cache: dict[str, int]
    tools: dict[str, int]


def usage_counts(usage: object) -> UsageCounts:
    """The counts of a usage object, its fields read once (writes without the 5m/1h split count as
    5-minute writes)."""
    uncached, read_count, written_count, output = ints(
        usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"
    )
    if max(uncached or 0, read_count or 0, written_count or 0, output or 0) > _COUNTABLE:
        uncached, read_count, written_count, output = (
            None if (count or 0) > _COUNTABLE else count for count in (uncached, read_count, written_count, output)
        )
    tokens: dict[str, int] = {}
    if uncached is not None:
        tokens["input"] = max(0, uncached + (read_count or 0) + (written_count or 0))
    if output is not None:
        tokens["output"] = max(0, output)
    read, written = max(0, read_count or 0), max(0, written_count or 0)
    split = field(usage, "cache_creation")
    one_hour, five_minutes = (None, None) if split is None else ints(split, *_CACHE_SPLIT)
    if one_hour is None and five_minutes is None:
        cache = {"read": read, "write_5m": written, "write_1h": 0}
    else:
        cache = {"read": read, "write_5m": max(0, five_minutes or 0), "write_1h": max(0, one_hour or 0)}
    tools = field(usage, "server_tool_use")
    requests = _NO_TOOLS if tools is None else ints(tools, *_TOOL_REQUESTS)
    return UsageCounts(tokens, cache, {tool: count for tool, count in zip(_TOOLS, requests) if count})


_TOOLS = ("web_search", "web_fetch")
_TOOL_REQUESTS = tuple(f"{tool}_requests" for tool in _TOOLS)
_NO_TOOLS = (None, None)
