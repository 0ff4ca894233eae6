"""Pure functions from a call's request, response and headers to span attributes.

Nothing here touches OpenTelemetry state, so every rule is testable on plain data. Keys and
values mirror the SDK's own tracing (1.14+) exactly where it records something, so a span made
by us on an older SDK looks like the SDK's span on a newer one; the extras (`EXTRA_*`) are what
the SDK leaves out and are added on both paths.

Every reader tolerates missing fields and wrong types: a response is not validated unless the
application asks the SDK to, and telemetry must never raise into the application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union
from urllib.parse import unquote

from anthropic_otel._read.operations import Operation

__all__ = [
    "AttributeValue",
    "error_type",
    "field",
    "int_field",
    "ints",
    "request_attributes",
    "response_attributes",
    "server_attributes",
    "url_attributes",
]

AttributeValue = Union[str, bool, int, float, list[str], list[int]]
Attributes = dict[str, AttributeValue]

# Request body fields the SDK records on `anthropic.messages.create` spans: attribute -> (path, type).
_MESSAGE_REQUEST: tuple[tuple[str, tuple[str, ...], type], ...] = (
    ("gen_ai.request.model", ("model",), str),
    ("gen_ai.request.max_tokens", ("max_tokens",), int),
    ("gen_ai.request.reasoning.level", ("output_config", "effort"), str),
    ("anthropic.request.service_tier", ("service_tier",), str),
    ("anthropic.thinking.type", ("thinking", "type"), str),
    ("anthropic.thinking.budget_tokens", ("thinking", "budget_tokens"), int),
)

# Response fields the SDK records on `anthropic.messages.create` spans.
_MESSAGE_RESPONSE: tuple[tuple[str, tuple[str, ...], type], ...] = (
    ("gen_ai.response.id", ("id",), str),
    ("gen_ai.response.model", ("model",), str),
    ("gen_ai.usage.cache_write.input_tokens", ("usage", "cache_creation_input_tokens"), int),
    ("gen_ai.usage.cache_read.input_tokens", ("usage", "cache_read_input_tokens"), int),
    (
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
        ("usage", "cache_creation", "ephemeral_5m_input_tokens"),
        int,
    ),
    (
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
        ("usage", "cache_creation", "ephemeral_1h_input_tokens"),
        int,
    ),
    ("anthropic.response.service_tier", ("usage", "service_tier"), str),
    ("gen_ai.usage.output_tokens", ("usage", "output_tokens"), int),
    ("gen_ai.usage.reasoning.output_tokens", ("usage", "output_tokens_details", "thinking_tokens"), int),
    ("anthropic.message.stop_reason", ("stop_reason",), str),
)

_SERVER_TOOL_COUNTS = ("web_search_requests", "web_fetch_requests")

_ABSENT = object()
# The names of the server tool that runs code (`server_tool_use` blocks), counted as one tool.
CODE_EXECUTION_TOOLS = frozenset({"code_execution", "bash_code_execution", "text_editor_code_execution"})


def field(data: object, *path: str) -> object:
    """The value at `path` in a pydantic model, a dict, or a mix of both; `None` when absent."""
    for name in path:
        if data is None:
            return None
        # `_member`'s two common cases inlined: this runs some fifty times per call.
        if type(data) is dict:
            data = data.get(name)
            continue
        values = getattr(data, "__dict__", None)
        data = values[name] if values is not None and name in values else _member(data, name)
    return data


def _member(data: Any, name: str) -> object:
    """One step of `field`, fast for what it meets on every call: dicts and pydantic models.

    `getattr` on a pydantic model for a field it lacks (an older SDK's usage has no
    `cache_creation`) goes through `__getattr__` and a raised AttributeError: microseconds per
    miss, a dozen misses per call. Pydantic (v2) keeps fields in `__dict__` and unknown keys in
    `__pydantic_extra__`, so both are read directly.
    """
    if type(data) is dict:
        return data.get(name)
    values = getattr(data, "__dict__", None)
    if values is not None and name in values:
        return values[name]
    extra = getattr(data, "__pydantic_extra__", _ABSENT)
    if extra is not _ABSENT:
        return extra.get(name) if isinstance(extra, dict) else None
    if isinstance(data, Mapping):
        return data.get(name)
    return getattr(data, name, None)


def int_field(data: object, *path: str) -> Optional[int]:
    """An integer field, or `None`; `bool` is not a count."""
    value = field(data, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _typed(value: object, kind: type) -> Optional[AttributeValue]:
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value if kind is str and isinstance(value, str) else None


def _table(data: object, table: Iterable[tuple[str, tuple[str, ...], type]]) -> Attributes:
    """The attributes of `table` found in `data`: `field` and `_typed` inlined, as this reads some
    twenty fields of every response (a call each cost more than the lookup)."""
    attributes: Attributes = {}
    for key, path, kind in table:
        value: Any = data
        for name in path:
            if type(value) is dict:
                value = value.get(name)
            else:
                values = getattr(value, "__dict__", None)
                value = values[name] if values is not None and name in values else _member(value, name)
            if value is None:
                break
        else:
            if type(value) is kind or _typed(value, kind) is not None:
                attributes[key] = value
    return attributes


def ints(data: object, *names: str) -> tuple[Optional[int], ...]:
    """The integer fields `names` of one object (`int_field` each), its fields looked up once."""
    if type(data) is dict:
        values: Any = data
    else:
        values = getattr(data, "__dict__", None)
        extra = getattr(data, "__pydantic_extra__", None)
        if values is None or extra:
            return tuple(int_field(data, name) for name in names)
    return tuple([v if type(v) is int or v is None else _int_or_none(v) for v in map(values.get, names)])


def _int_or_none(value: object) -> Optional[int]:
    if type(value) is int or value is None:
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def server_attributes(host: str, port: Optional[int], scheme: str) -> Attributes:
    """`server.address` / `server.port`, with the scheme's default port as the SDK does."""
    return {"server.address": host, "server.port": port or (80 if scheme == "http" else 443)}


def request_attributes(
    operation: Operation,
    method: str,
    body: object,
    beta_header: Optional[str],
    *,
    stream: bool,
    provider: str,
) -> Attributes:
    """What a span starts with (so that samplers see it), from the request as the SDK built it."""
    attributes: Attributes = {
        "gen_ai.provider.name": provider,
        "http.request.method": method.upper(),
        "http.route": operation.route,
    }
    if operation.gen_ai_operation is not None:
        attributes["gen_ai.operation.name"] = operation.gen_ai_operation
    if operation.kind in ("message", "count_tokens", "completion"):
        model = field(body, "model")
        if isinstance(model, str):
            attributes["gen_ai.request.model"] = model
    if operation.kind == "message":
        attributes.update(_table(body, _MESSAGE_REQUEST))
        if beta_header:
            attributes["anthropic.beta"] = [part.strip() for part in beta_header.split(",") if part.strip()]
        formats = (field(body, "output_config", "format"), field(body, "output_format"))
        if any(field(output, "type") == "json_schema" for output in formats):
            attributes["gen_ai.output.type"] = "json"
        if stream:
            attributes["gen_ai.request.stream"] = True
    elif operation.kind == "completion":
        max_tokens = _typed(field(body, "max_tokens_to_sample"), int)
        if max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = max_tokens
        if stream:
            attributes["gen_ai.request.stream"] = True
    return attributes


def response_attributes(operation: Operation, data: object) -> Attributes:
    """What a successful response body (model or decoded JSON) gives the span.

    `gen_ai.usage.input_tokens` counts uncached input plus cache reads and writes, as the SDK and
    semconv define it. The extras the SDK does not record are added here too: finish reasons,
    the semconv spelling of cache writes, and server-tool counts.
    """
    if operation.kind == "count_tokens":
        count = int_field(data, "input_tokens")
        return {} if count is None else {"anthropic.message.count_tokens.input_tokens": count}
    if operation.kind == "completion":
        attributes = _table(data, (("gen_ai.response.id", ("id",), str), ("gen_ai.response.model", ("model",), str)))
        stop = field(data, "stop_reason")
        if isinstance(stop, str):
            attributes["gen_ai.response.finish_reasons"] = [stop]
        return attributes
    if operation.kind != "message":
        return {}
    attributes = _table(data, _MESSAGE_RESPONSE)
    usage = field(data, "usage")
    attributes.update(usage_attributes(usage))
    executions = code_executions(field(data, "content"))
    if executions:
        attributes["anthropic.usage.server_tool_use.code_execution_requests"] = executions
    stop = attributes.get("anthropic.message.stop_reason")
    if isinstance(stop, str):
        attributes["gen_ai.response.finish_reasons"] = [stop]
    return attributes


def usage_attributes(usage: object) -> Attributes:
    """The usage attributes that are sums or extras: input total, semconv cache write, server tools."""
    attributes: Attributes = {}
    uncached, read, written = ints(usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    if uncached is not None:
        attributes["gen_ai.usage.input_tokens"] = uncached + (read or 0) + (written or 0)
    if written is not None:
        attributes["gen_ai.usage.cache_creation.input_tokens"] = written
    server_tools = field(usage, "server_tool_use")
    if server_tools is not None:
        for name, count in zip(_SERVER_TOOL_COUNTS, ints(server_tools, *_SERVER_TOOL_COUNTS)):
            if count is not None:
                attributes[f"anthropic.usage.server_tool_use.{name}"] = count
    return attributes


def code_executions(content: object) -> int:
    """How many times the model ran code (server tool `code_execution` and its bash / text editor
    forms): the usage object does not count them, the response's `server_tool_use` blocks do."""
    if not isinstance(content, (list, tuple)):
        return 0
    tools = CODE_EXECUTION_TOOLS
    return sum(1 for block in content if field(block, "type") == "server_tool_use" and field(block, "name") in tools)


def url_attributes(scheme: str, netloc: str, path: str, query: str, params: frozenset[str]) -> Attributes:
    """`url.*` of the call's first request, keeping only query parameters the endpoint defines.

    Names are compared percent-decoded (`created_at%5Bgte%5D` is `created_at[gte]`), and an array
    sent as `name[]` counts as `name`, as the SDK's own tracing compares them.
    """
    kept = "&".join(pair for pair in query.split("&") if pair and _defined(pair.partition("=")[0], params))
    full = f"{scheme}://{netloc}{path}"
    attributes: Attributes = {"url.scheme": scheme, "url.path": path, "url.full": f"{full}?{kept}" if kept else full}
    if kept:
        attributes["url.query"] = kept
    return attributes


def _defined(name: str, params: frozenset[str]) -> bool:
    name = unquote(name)
    return name in params or (name.endswith("[]") and name[:-2] in params)


def error_type(error: BaseException) -> str:
    """The `error.type` of a failed call, exactly as the SDK's own tracing computes it.

    The API's error type (`rate_limit_error`, `overloaded_error`, ...) when the response carried
    one, else its status code; `client_timeout_error` / `connection_error` for transport failures;
    `client_error` for anything else raised inside the SDK. Checked by class name so that it works
    for the `httpx` (0.x) and `httpx2` (1.x+) flavours alike.
    """
    names = {cls.__name__ for cls in type(error).__mro__}
    if "APITimeoutError" in names or "TimeoutException" in names:
        return "client_timeout_error"
    if "APIConnectionError" in names or "TransportError" in names:
        return "connection_error"
    if "APIStatusError" in names:
        api_type: Any = getattr(error, "type", None) or field(getattr(error, "body", None), "error", "type")
        if isinstance(api_type, str) and api_type:
            return api_type
        status = getattr(error, "status_code", None)
        if isinstance(status, int) and status >= 400:
            return str(status)
    return "client_error"
