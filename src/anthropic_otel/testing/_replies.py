"""What the fake API answers: scripted replies and faults, as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

__all__ = ["ErrorReply", "Fault", "MessageReply", "Reply", "ToolUse", "reply_from_json"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class ToolUse:
    """A `tool_use` content block of a reply."""

    name: str
    input: dict[str, Any]
    id: Optional[str] = None


@dataclass(frozen=True)
class MessageReply:
    """A successful Messages API answer; JSON or SSE depending on the request's `stream`.

    `usage` overrides the computed usage field by field; `model=None` echoes the request's model;
    `server_tools` are the names of `server_tool_use` blocks the answer starts with (`code_execution`);
    a header of `headers` given as `None` is left out (`{"request-id": None}`, as Bedrock may answer).
    """

    text: Optional[str] = None
    model: Optional[str] = None
    stop_reason: Optional[str] = None
    usage: Optional[dict[str, Any]] = None
    tool_uses: tuple[ToolUse, ...] = ()
    thinking: Optional[str] = None
    service_tier: str = "standard"
    server_tool_use: Optional[dict[str, int]] = None
    server_tools: tuple[str, ...] = ()
    headers: dict[str, Optional[str]] = field(default_factory=dict)
    delay: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_uses", tuple(self.tool_uses))
        object.__setattr__(self, "server_tools", tuple(self.server_tools))


@dataclass(frozen=True)
class ErrorReply:
    """An error status with the API's error body (and `retry-after` when given)."""

    status: int
    error_type: Optional[str] = None
    message: Optional[str] = None
    retry_after: Optional[float] = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.error_type or ERROR_TYPES.get(self.status, "api_error")


@dataclass(frozen=True)
class Fault:
    """A broken answer: `kind` is one of `delay`, `drop_mid_body`, `malformed_json`,
    `truncated_sse`, `drop_mid_stream`, `delta_without_usage`."""

    kind: str
    seconds: float = 0.0
    after_events: int = 0

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally after `seconds`."""
        return cls("delay", seconds=seconds)

    @classmethod
    def truncated_sse(cls, after_events: int) -> Fault:
        """A stream that ends cleanly after `after_events` events, without `message_stop`."""
        return cls("truncated_sse", after_events=after_events)

    @classmethod
    def drop_mid_stream(cls, after_events: int) -> Fault:
        """A stream whose connection breaks after `after_events` events."""
        return cls("drop_mid_stream", after_events=after_events)

    @classmethod
    def drop_mid_body(cls) -> Fault:
        """Send the headers and half a JSON body, then close the connection."""
        return cls("drop_mid_body")

    @classmethod
    def malformed_json(cls) -> Fault:
        """A 200 whose body is not JSON."""
        return cls("malformed_json")

    @classmethod
    def delta_without_usage(cls) -> Fault:
        """A whole stream whose `message_delta` has no `usage` (which the SDK cannot accumulate)."""
        return cls("delta_without_usage")


Reply = Union[MessageReply, ErrorReply, Fault]


def reply_from_json(spec: dict[str, Any]) -> Reply:
    """The reply that an `x-fake-reply` header describes (see the package docstring)."""
    if "error" in spec:
        error = dict(spec["error"])
        return ErrorReply(int(error.pop("status")), **error)
    if "fault" in spec:
        fault = dict(spec)
        return Fault(str(fault.pop("fault")), **fault)
    tool_uses = tuple(ToolUse(**tool) for tool in spec.pop("tool_uses", ()))
    return MessageReply(tool_uses=tool_uses, **spec)
