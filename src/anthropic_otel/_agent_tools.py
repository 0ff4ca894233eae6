"""Tool runs inside a tool runner: `gen_ai.execute_tool.duration`, and their content on the tool's span.

Every run of a function tool by the runner is timed, whichever span records it (ours before SDK
1.14, the SDK's own after, or none), and its duration recorded by tool name (capped), with
`error.type=tool_error` for a run that failed. With content capture on (spans), the tool span gets
semconv's `gen_ai.tool.call.arguments` and `gen_ai.tool.call.result`, cut and redacted like a
call's content (`ContentCapture.tool_attributes`); the SDK's own span gets them only when the SDK
records no content of its own (its `anthropic.tool_result.content` and arguments would win).

On SDK 1.14+ the runner opens the SDK's `tool_use_span(client, tool, tool_use_id=, tool_name=,
input=, ...)` around each run: `TimedToolUse` wraps that context manager, so the SDK's code and the
tool's run inside it go on unchanged; our steps are guarded.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.trace import Span

from anthropic_otel._read.attributes import AttributeValue, field
from anthropic_otel._routes import current_route
from anthropic_otel._sdk import provider_name
from anthropic_otel._telemetry import Telemetry

__all__ = ["TimedToolUse", "ToolTiming", "tool_content_on", "tool_finished"]

log = logging.getLogger(__name__)

TOOL_ERROR = "tool_error"  # the SDK's error.type of a tool run that failed


def tool_finished(telemetry: Telemetry, client: Any, name: str, started_s: float, failed: bool) -> None:
    """One tool run ended: `gen_ai.execute_tool.duration`, from `started_s` (`time.perf_counter()`)."""
    points: dict[str, AttributeValue] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.provider.name": provider_name(client),
        "gen_ai.tool.name": telemetry.tool_names.admit(name),
        "gen_ai.tool.type": "function",
    }
    route = current_route(telemetry.routes)
    if route is not None:
        points["anthropic.route"] = route
    if failed:
        points["error.type"] = TOOL_ERROR
    telemetry.instruments.execute_tool_duration.record(time.perf_counter() - started_s, points)


def tool_content_on(telemetry: Telemetry, span: Optional[Span], arguments: object, result: object) -> None:
    """Put a tool run's arguments and result on its span (still open), if content goes to spans."""
    content = telemetry.content
    if content is None or span is None or not span.is_recording():
        return
    attributes = content.tool_attributes(arguments, result)
    if attributes:
        span.set_attributes(attributes)


class ToolTiming:
    """One run of a function tool, timed from now: what its end records, whichever span it has (its
    content, on `span` if there is one; its duration). Each step is guarded: a fault of ours loses
    only its own telemetry, never the tool's run."""

    __slots__ = ("arguments", "client", "name", "span", "started_s", "telemetry")

    def __init__(
        self, telemetry: Telemetry, client: Any, name: str, arguments: object, span: Optional[Span] = None
    ) -> None:
        self.telemetry = telemetry
        self.client = client
        self.name = name
        self.arguments = arguments
        self.span = span
        self.started_s = time.perf_counter()

    def content_on_span(self, result: object) -> None:
        """The run's arguments and `result` on its span (still open), if content goes to spans."""
        try:
            tool_content_on(self.telemetry, self.span, self.arguments, result)
        except Exception:
            log.debug("anthropic-otel: could not record a tool run's content", exc_info=True)

    def finished(self, failed: bool) -> None:
        """The run ended (`failed`: it raised, or its result is an error): its duration."""
        try:
            tool_finished(self.telemetry, self.client, self.name, self.started_s, failed)
        except Exception:
            log.debug("anthropic-otel: could not record a tool run", exc_info=True)


class TimedToolUse(ToolTiming):
    """The SDK's `tool_use_span(...)` context manager (1.14+), timed, with our content on its span."""

    __slots__ = ("inner", "run")

    def __init__(self, telemetry: Telemetry, inner: Any, client: Any, name: str, arguments: object) -> None:
        super().__init__(telemetry, client, name, arguments)
        self.inner = inner
        self.run: Any = None

    def __enter__(self) -> Any:
        before = trace.get_current_span()
        self.run = self.inner.__enter__()  # the SDK's: what it raises is the application's
        try:
            span = trace.get_current_span()
            content = self.telemetry.content
            # The SDK made its tool span current, unless it made none; its own content would replace ours.
            if span is not before and content is not None and not content.sdk_records_content(self.client):
                self.span = span
        except Exception:
            log.debug("anthropic-otel: could not find the SDK's tool span", exc_info=True)
        return self.run

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> Any:
        result = getattr(self.run, "result", None)
        self.content_on_span(field(result, "content"))
        try:
            return self.inner.__exit__(kind, error, traceback)
        finally:
            self.finished(field(result, "is_error") is True or isinstance(error, Exception))
