"""The hooks on the tool runner (SDK 0.68 to 1.13; they pass through on SDKs that trace it themselves).

The runner's loop runs inside its `invoke_agent` span, a turn's `tool_use` blocks are noted for
the tool spans, and each function tool run gets its `execute_tool` span (`_tool_runner`). The
tool's own call, and the application's, are the SDK's: our steps around them are guarded.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Optional

from anthropic_otel import _tool_runner as tool_runner
from anthropic_otel._hooks import active
from anthropic_otel._hooks.active import Wrapped

__all__ = ["function_tool_call", "runner_loop", "runner_turn"]

log = logging.getLogger("anthropic_otel.lifecycle")


def runner_loop(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Base{Sync,Async}ToolRunner.__run__` (SDK < 1.14): the loop, inside an `invoke_agent` span."""
    inner = wrapped(*args, **kwargs)
    span = None
    try:
        span = tool_runner.runner_span(active.telemetry, instance)
        if span is None:
            return inner
        return (tool_runner.AsyncSteps if inspect.isasyncgen(inner) else tool_runner.SyncSteps)(span, instance, inner)
    except Exception:
        log.debug("anthropic-otel: could not trace a tool runner", exc_info=True)
        if span is not None and span.is_recording():
            span.end()
        return inner


def runner_turn(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Base{Sync,Async}ToolRunner._generate_tool_call_response` (SDK < 1.14): one turn's tool runs."""
    try:
        traced = active.telemetry is not None and not tool_runner.sdk_traces_runners()
    except Exception:
        log.debug("anthropic-otel: could not tell whether the SDK traces tool runners", exc_info=True)
        traced = False
    if not traced:
        return wrapped(*args, **kwargs)
    if inspect.iscoroutinefunction(wrapped):
        return tool_runner.turn_async(wrapped, instance, args, kwargs)
    try:
        turn: Optional[tool_runner.ToolTurn] = tool_runner.turn_of(
            instance, instance._get_last_assistant_message_content()
        )
    except Exception:
        log.debug("anthropic-otel: could not read a tool runner turn", exc_info=True)
        turn = None
    token = tool_runner.TURN.set(turn)
    try:
        return wrapped(*args, **kwargs)
    finally:
        tool_runner.TURN.reset(token)


def function_tool_call(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Beta{,Async}FunctionTool.call` (SDK < 1.14): a tool run inside a runner, in an `execute_tool` span."""
    telemetry = active.telemetry
    if telemetry is None:
        return wrapped(*args, **kwargs)
    try:
        span = tool_runner.tool_span(telemetry, instance, args[0] if args else kwargs.get("input"))
    except Exception:
        log.debug("anthropic-otel: could not start a tool span", exc_info=True)
        span = None
    if span is None:
        return wrapped(*args, **kwargs)
    if inspect.iscoroutinefunction(wrapped):
        return tool_runner.run_tool_async(span, wrapped, args, kwargs)
    with tool_runner.ToolRun(span):
        return wrapped(*args, **kwargs)
