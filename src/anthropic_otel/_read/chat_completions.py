"""Pure functions from a chat completions request and answer to attributes, usage and dropped features.

The Claude API's OpenAI compatibility layer speaks the OpenAI format, so what the Messages API
calls `input_tokens` / `output_tokens` arrives as `prompt_tokens` / `completion_tokens`, and
`finish_reason` replaces `stop_reason`. These functions translate into the attribute keys and
usage shape the rest of the package uses (`gen_ai.usage.*`, pricing, metrics), so a call through
the `openai` SDK is recorded like one through the `anthropic` SDK. Nothing here touches
OpenTelemetry state, and every reader tolerates missing fields, wrong types and the SDK's
`NOT_GIVEN` / `omit` sentinels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from anthropic_otel._read.attributes import Attributes, field, int_field
from anthropic_otel._read.operations import CHAT_COMPLETIONS_CREATE

__all__ = [
    "FEATURES",
    "dropped_features",
    "request_attributes",
    "response_attributes",
    "usage_of",
]


# What the compatibility layer silently ignores, in report order: name -> what the user loses.
FEATURES: dict[str, str] = {
    "prompt_caching": "cache_control is ignored, so nothing is cached",
    "strict_tools": "strict: true on tools is ignored, so tool input may not follow the schema",
    "structured_outputs": "response_format is ignored, so the answer may not be JSON of that schema",
    "reasoning_effort": "reasoning_effort is ignored, so no extended thinking happens",
    "thinking_output": "extended thinking runs and is billed, but its text is not returned",
    "system_hoisting": "system/developer messages are hoisted to the start and joined with newlines",
}
_SYSTEM_ROLES = ("system", "developer")
# How deep `cache_control` is looked for: message -> content list -> block -> cache_control.
_MAX_DEPTH = 4


def _int(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_attributes(kwargs: Mapping[str, Any], *, stream: bool) -> Attributes:
    """What the span starts with, from the keyword arguments of `chat.completions.create`."""
    attributes: Attributes = {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "http.request.method": "POST",
        "http.route": CHAT_COMPLETIONS_CREATE.route,
    }
    model = kwargs.get("model")
    if isinstance(model, str):
        attributes["gen_ai.request.model"] = model
    max_tokens = _int(kwargs.get("max_completion_tokens")) or _int(kwargs.get("max_tokens"))
    if max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = max_tokens
    if stream:
        attributes["gen_ai.request.stream"] = True
    response_format = kwargs.get("response_format")
    if isinstance(response_format, type) or field(response_format, "type") in ("json_schema", "json_object"):
        attributes["gen_ai.output.type"] = "json"
    thinking = field(kwargs.get("extra_body"), "thinking")
    kind, budget = field(thinking, "type"), _int(field(thinking, "budget_tokens"))
    if isinstance(kind, str):
        attributes["anthropic.thinking.type"] = kind
    if budget is not None:
        attributes["anthropic.thinking.budget_tokens"] = budget
    return attributes


def usage_of(usage: object) -> Optional[dict[str, Any]]:
    """An OpenAI-format usage in the Messages API's shape (what pricing and metrics read), or None.

    `prompt_tokens` includes cached tokens in the OpenAI format; they are split out as cache
    reads should a proxy report any (the Claude compatibility layer does not cache).
    """
    prompt = int_field(usage, "prompt_tokens")
    completion = int_field(usage, "completion_tokens")
    if prompt is None and completion is None:
        return None
    shaped: dict[str, Any] = {}
    if prompt is not None:
        cached = int_field(usage, "prompt_tokens_details", "cached_tokens")
        shaped["input_tokens"] = max(prompt - (cached or 0), 0)
        if cached is not None:
            shaped["cache_read_input_tokens"] = cached
    if completion is not None:
        shaped["output_tokens"] = completion
    return shaped


def response_attributes(body: object) -> Attributes:
    """What an answer (a `ChatCompletion`, its JSON, or what a stream showed) gives the span."""
    attributes: Attributes = {}
    for key, name in (("gen_ai.response.id", "id"), ("gen_ai.response.model", "model")):
        value = field(body, name)
        if isinstance(value, str):
            attributes[key] = value
    choices = field(body, "choices")
    if isinstance(choices, Sequence):
        reasons = [
            reason for reason in (field(choice, "finish_reason") for choice in choices) if isinstance(reason, str)
        ]
        if reasons:
            attributes["gen_ai.response.finish_reasons"] = reasons
    usage = field(body, "usage")
    prompt = int_field(usage, "prompt_tokens")
    if prompt is not None:
        attributes["gen_ai.usage.input_tokens"] = prompt
    completion = int_field(usage, "completion_tokens")
    if completion is not None:
        attributes["gen_ai.usage.output_tokens"] = completion
    cached = int_field(usage, "prompt_tokens_details", "cached_tokens")
    if cached is not None:
        attributes["gen_ai.usage.cache_read.input_tokens"] = cached
    return attributes


def _finish_reason(choice: object) -> object:
    return field(choice, "finish_reason")


def _mentions(data: object, key: str, depth: int = _MAX_DEPTH) -> bool:
    """Whether `key` is a key of a mapping anywhere in `data` (lists and mappings, `depth` levels down)."""
    if depth < 0:
        return False
    if isinstance(data, Mapping):
        return key in data or any(_mentions(value, key, depth - 1) for value in data.values())
    if isinstance(data, (list, tuple)):
        return any(_mentions(item, key, depth - 1) for item in data)
    return False


def _hoisted(messages: Sequence[Any]) -> bool:
    """Several system/developer messages, or one not at the start: the layer moves and joins them."""
    positions = [index for index, message in enumerate(messages) if field(message, "role") in _SYSTEM_ROLES]
    return len(positions) > 1 or positions not in ([], [0])


def dropped_features(body: Mapping[str, Any]) -> list[str]:
    """The `FEATURES` a request body (as sent, `extra_body` merged) uses that the layer ignores."""
    messages = body.get("messages")
    messages = messages if isinstance(messages, (list, tuple)) else []
    tools = body.get("tools")
    tools = tools if isinstance(tools, (list, tuple)) else []
    found: list[str] = []
    if _mentions(messages, "cache_control") or _mentions(tools, "cache_control", 2):
        found.append("prompt_caching")
    if any(field(tool, "function", "strict") is True for tool in tools):
        found.append("strict_tools")
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") not in (None, "text"):
        found.append("structured_outputs")
    if isinstance(body.get("reasoning_effort"), str):
        found.append("reasoning_effort")
    if field(body, "thinking", "type") in ("enabled", "adaptive"):
        found.append("thinking_output")
    if _hoisted(messages):
        found.append("system_hoisting")
    return found
