"""The hooks on the tool runner (SDK 0.68+).

The runner's loop runs with its totals current, and inside its `invoke_agent` span on SDKs that do
not trace it themselves (`_tool_runner`); there a turn's `tool_use` blocks are noted and each
function tool run gets its `execute_tool` span (`_tool_runs`). On SDK 1.14+ the SDK's own runner
span gets the totals just before the SDK ends it (`end_tool_runner_span`), and each of its tool
spans is timed (`tool_use_span`, `_agent_tools`). The tool's own call, and the application's, are
the SDK's: our steps around them are guarded.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Optional

from anthropic_otel import _tool_runner as tool_runner
from anthropic_otel import _tool_runs as tool_runs
from anthropic_otel._agent_tools import TimedToolUse
from anthropic_otel._call.agent_run import RUN, totals_on
from anthropic_otel._hooks import active
from anthropic_otel._hooks.active import Wrapped

__all__ = ["function_tool_call", "runner_loop", "runner_span_end", "runner_turn", "sdk_tool_use"]

log = logging.getLogger("anthropic_otel.lifecycle")


def runner_loop(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Base{Sync,Async}ToolRunner.__run__`: the loop, with its totals current (and, before SDK 1.14,
    inside an `invoke_agent` span of ours)."""
    inner = wrapped(*args, **kwargs)
    telemetry = active.telemetry
    if telemetry is None:
        return inner
    span = None
    try:
        run = tool_runner.runner_run(telemetry, instance)
        span = tool_runner.runner_span(telemetry, instance)
        steps = tool_runner.async_steps if inspect.isasyncgen(inner) else tool_runner.sync_steps
        return steps(tool_runner.Steps(span, run, instance), inner)
    except Exception:
        log.debug("anthropic-otel: could not trace a tool runner", exc_info=True)
        if span is not None and span.is_recording():
            span.end()
        return inner


def runner_span_end(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`anthropic.lib.tools._beta_runner.end_tool_runner_span(span)` (1.14+): the run's totals on the
    SDK's span, just before it ends (the loop ends inside a step, where its run is current)."""
    try:
        totals_on(args[0] if args else kwargs.get("span"), RUN.get())
    except Exception:
        log.debug("anthropic-otel: could not put a tool runner's totals on its span", exc_info=True)
    return wrapped(*args, **kwargs)


def sdk_tool_use(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`anthropic.lib.tools._beta_runner.tool_use_span(client, tool, *, tool_name=, input=, ...)` (1.14+):
    the SDK's context manager around a tool run, timed, with our content on its span."""
    inner = wrapped(*args, **kwargs)
    telemetry = active.telemetry
    if telemetry is None:
        return inner
    try:
        client = args[0] if args else kwargs.get("client")
        return TimedToolUse(telemetry, inner, client, str(kwargs.get("tool_name") or ""), kwargs.get("input"))
    except Exception:
        log.debug("anthropic-otel: could not time a tool run", exc_info=True)
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
        return tool_runs.turn_async(wrapped, instance, args, kwargs)
    try:
        turn: Optional[tool_runs.ToolTurn] = tool_runs.turn_of(instance, instance._get_last_assistant_message_content())
    except Exception:
        log.debug("anthropic-otel: could not read a tool runner turn", exc_info=True)
        turn = None
    token = tool_runs.TURN.set(turn)
    try:
        return wrapped(*args, **kwargs)
    finally:
        tool_runs.TURN.reset(token)


def function_tool_call(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Beta{,Async}FunctionTool.call` (SDK < 1.14): a tool run inside a runner, in an `execute_tool` span."""
    telemetry = active.telemetry
    if telemetry is None:
        return wrapped(*args, **kwargs)
    try:
        run = tool_runs.tool_run(telemetry, instance, args[0] if args else kwargs.get("input"))
    except Exception:
        log.debug("anthropic-otel: could not start a tool span", exc_info=True)
        run = None
    if run is None:
        return wrapped(*args, **kwargs)
    if inspect.iscoroutinefunction(wrapped):
        return tool_runs.run_tool_async(run, wrapped, args, kwargs)
    with run:
        run.result = wrapped(*args, **kwargs)
        return run.result
