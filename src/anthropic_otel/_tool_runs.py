"""Tool runs of the tool runner on SDKs that do not trace it themselves (0.68 to 1.13): their spans.

`_generate_tool_call_response`, where one turn's tools run, notes that turn's `tool_use` blocks
(`TURN`), so that a run of `BetaFunctionTool.call` / `BetaAsyncFunctionTool.call` can be matched to
its block (its `input` is the block's own object) and get an INTERNAL `execute_tool` span named and
attributed as the SDK 2.x names its own: `anthropic.custom_tool_use <tool>` (`anthropic.mcp_tool_use
<tool>` for tools the MCP helper made). A tool that raises is `ERROR` with `error.type=tool_error`,
as the SDK marks a run whose result is an error. The run's end (`ToolRun.end`) also records its
content (when captured) and `gen_ai.execute_tool.duration` (`_agent_tools`).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Callable, Optional

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind

from anthropic_otel._agent_tools import ToolTiming
from anthropic_otel._read.attributes import Attributes
from anthropic_otel._telemetry import Telemetry
from anthropic_otel._tool_runner import set_status, shared_attributes

__all__ = ["TURN", "ToolRun", "ToolTurn", "end_tool", "run_tool_async", "tool_run", "turn_async", "turn_of"]

log = logging.getLogger(__name__)

Wrapped = Callable[..., Any]


class ToolTurn:
    """The `tool_use` blocks of the turn whose tools are running, and what their spans share."""

    __slots__ = ("attributes", "blocks", "client")

    def __init__(self, blocks: list[Any], attributes: Attributes, client: Any = None) -> None:
        self.blocks = blocks
        self.attributes = attributes
        self.client = client

    def take(self, tool_input: object) -> Any:
        """The block whose `input` is `tool_input` (the very object the runner passes to the tool)."""
        for index, block in enumerate(self.blocks):
            if getattr(block, "input", None) is tool_input:
                return self.blocks.pop(index)
        return None


# The turn whose tools are running, for the tool spans inside it.
TURN: ContextVar[Optional[ToolTurn]] = ContextVar("anthropic_otel_tool_turn", default=None)


def turn_of(runner: Any, content: Any) -> ToolTurn:
    """The turn whose tools are about to run: its `tool_use` blocks (from the last assistant `content`)."""
    blocks = [block for block in content or () if getattr(block, "type", None) == "tool_use"]
    return ToolTurn(blocks, shared_attributes(runner._client), runner._client)


async def turn_async(wrapped: Wrapped, runner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An async runner's `_generate_tool_call_response`, with its turn noted for the tool spans."""
    try:
        turn: Optional[ToolTurn] = turn_of(runner, await runner._get_last_assistant_message_content())
    except Exception:
        log.debug("anthropic-otel: could not read a tool runner turn", exc_info=True)
        turn = None
    token = TURN.set(turn)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        TURN.reset(token)


class ToolRun(ToolTiming):
    """A function tool's run inside its `execute_tool` span: current while the tool runs, ended once
    after, with the tool's error if it raised (the error itself passes on untouched), its content
    (`result`, set by the caller when the tool returned) and its duration."""

    __slots__ = ("result", "token")

    def __init__(self, telemetry: Telemetry, span: Span, name: str, client: Any, arguments: object) -> None:
        super().__init__(telemetry, client, name, arguments, span)
        self.result: Any = None
        self.token: Any = None

    def __enter__(self) -> ToolRun:
        self.token = context.attach(trace.set_span_in_context(self.span or trace.INVALID_SPAN))
        return self

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        context.detach(self.token)
        self.content_on_span(self.result)
        span = self.span or trace.INVALID_SPAN
        try:
            end_tool(span, error)
        except Exception:
            log.debug("anthropic-otel: could not end a tool span", exc_info=True)
            if span.is_recording():  # the end failed before it ended the span
                span.end()
        self.finished(isinstance(error, Exception))


def end_tool(span: Span, error: Optional[BaseException]) -> None:
    """A tool run that raised is `ERROR` with `error.type=tool_error`, as the SDK marks one."""
    try:
        set_status(span, error, "tool_error")
    finally:
        span.end()


def tool_run(telemetry: Telemetry, tool: Any, tool_input: object) -> Optional[ToolRun]:
    """The run of a function tool inside a runner's turn, its span started; None outside a turn (or on
    SDKs that trace runners themselves, where no turn is ever noted)."""
    turn = TURN.get()
    block = turn.take(tool_input) if turn is not None else None
    if turn is None or block is None:
        return None
    name = str(getattr(block, "name", "") or "")
    operation = (
        "anthropic.mcp_tool_use"
        if getattr(tool, "_stainless_helper", None) == "mcp_tool"
        else "anthropic.custom_tool_use"
    )
    attributes: Attributes = {"gen_ai.operation.name": "execute_tool", **turn.attributes, "gen_ai.tool.name": name}
    description = getattr(tool, "description", None)
    if isinstance(description, str) and description:
        attributes["gen_ai.tool.description"] = description
    call_id = getattr(block, "id", None)
    if isinstance(call_id, str):
        attributes["gen_ai.tool.call.id"] = call_id
    attributes["gen_ai.tool.type"] = "function"
    run = ToolRun(telemetry, trace.INVALID_SPAN, name, turn.client, tool_input)
    # Started last: nothing of ours runs between the span's start and its `with run:`, so no span is
    # left open by a failure here.
    run.span = telemetry.tracer.start_span(
        f"{operation} {name}" if name else operation, kind=SpanKind.INTERNAL, attributes=attributes
    )
    return run


async def run_tool_async(run: ToolRun, wrapped: Wrapped, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An async function tool's run, inside its span."""
    with run:
        run.result = await wrapped(*args, **kwargs)
        return run.result
