"""The tool runner (`beta.messages.tool_runner`) on SDKs that do not trace it themselves.

SDK 1.14+ gives a tool runner an INTERNAL `anthropic.messages.tool_runner` span
(`gen_ai.operation.name=invoke_agent`) that is the parent of the runner's model calls and of one
INTERNAL span per tool run, `anthropic.custom_tool_use <tool>` (`anthropic.mcp_tool_use <tool>`
for tools the MCP helper made) with `gen_ai.operation.name=execute_tool`. Older SDKs that have the
runner (0.68 to 1.13) get the same spans, names and attributes from here; on 1.14+ nothing is
added, whatever the client's own tracing says, so that no runner ever has two.

Three points of the runner are watched, the same on every version that has it:
- `__run__`, the generator (sync) or async generator behind iterating the runner: the runner
  span starts with the first step and ends once, when the loop ends, fails, or is closed (also
  when the runner is dropped). Each step runs with the span current, so the model calls made in
  it are its children; the application's code between steps keeps its own context, as the SDK does.
- `_generate_tool_call_response`, where one turn's tools run: it notes that turn's `tool_use`
  blocks, so that a tool run can be matched to its block (its `input` is the block's own object).
- `BetaFunctionTool.call` / `BetaAsyncFunctionTool.call` (the `beta_tool` functions): the tool
  span around the run. A tool that raises is `ERROR` with `error.type=tool_error`, as the SDK marks
  a run whose result is an error.
"""

from __future__ import annotations

import functools
import logging
import weakref
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Callable, Optional

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel._read.attributes import Attributes, error_type, field
from anthropic_otel._routes import current_conversation
from anthropic_otel._sdk import client_conversation, provider_name, sdk_has_tracing
from anthropic_otel._telemetry import Telemetry

__all__ = [
    "TURN",
    "ToolRun",
    "ToolTurn",
    "end_runner",
    "end_tool",
    "AsyncSteps",
    "SyncSteps",
    "run_tool_async",
    "runner_span",
    "sdk_traces_runners",
    "tool_span",
    "turn_async",
    "turn_of",
]

log = logging.getLogger(__name__)

Wrapped = Callable[..., Any]


class ToolTurn:
    """The `tool_use` blocks of the turn whose tools are running, and what their spans share."""

    __slots__ = ("attributes", "blocks")

    def __init__(self, blocks: list[Any], attributes: Attributes) -> None:
        self.blocks = blocks
        self.attributes = attributes

    def take(self, tool_input: object) -> Any:
        """The block whose `input` is `tool_input` (the very object the runner passes to the tool)."""
        for index, block in enumerate(self.blocks):
            if getattr(block, "input", None) is tool_input:
                return self.blocks.pop(index)
        return None


# The turn whose tools are running, for the tool spans inside it.
TURN: ContextVar[Optional[ToolTurn]] = ContextVar("anthropic_otel_tool_turn", default=None)


@functools.lru_cache(maxsize=1)
def sdk_traces_runners() -> bool:
    """Whether the installed SDK makes the runner and tool spans itself (1.14+, the same that traces calls)."""
    return sdk_has_tracing()


def _shared(client: Any) -> Attributes:
    attributes: Attributes = {"gen_ai.provider.name": provider_name(client)}
    conversation = current_conversation() or client_conversation(client)
    if conversation is not None:
        attributes["gen_ai.conversation.id"] = conversation
    return attributes


def _runner_attributes(runner: Any) -> Attributes:
    params = getattr(runner, "_params", None)
    attributes: Attributes = {"gen_ai.operation.name": "invoke_agent", **_shared(getattr(runner, "_client", None))}
    model = field(params, "model")
    if isinstance(model, str):
        attributes["gen_ai.request.model"] = model
    output_format = field(params, "output_config", "format")
    if field(output_format, "type") == "json_schema" or isinstance(field(params, "output_format"), type):
        attributes["gen_ai.output.type"] = "json"
    return attributes


def _set_status(span: Span, error: Optional[BaseException], kind: Optional[str] = None) -> None:
    """`OK`, or `ERROR` with `error.type` for an `Exception`; anything else (a close, a cancel) leaves it unset."""
    if error is None:
        span.set_status(Status(StatusCode.OK))
    elif isinstance(error, Exception):
        span.set_status(Status(StatusCode.ERROR))
        span.set_attribute("error.type", kind or error_type(error))


def runner_span(telemetry: Optional[Telemetry], runner: Any) -> Optional[Span]:
    """The `invoke_agent` span of a runner starting its loop; None when we make none (SDK 1.14+ does)."""
    if telemetry is None or sdk_traces_runners():
        return None
    return telemetry.tracer.start_span(
        "anthropic.messages.tool_runner", kind=SpanKind.INTERNAL, attributes=_runner_attributes(runner)
    )


def end_runner(span: Span, runner: Any, error: Optional[BaseException], *, closed: bool) -> None:
    """End the runner span: its status unless the loop was closed (by the application, or the runner)."""
    try:
        if not (closed or getattr(runner, "_closed", False) is True):
            _set_status(span, error)
    finally:
        span.end()


class _Steps:
    """The runner's loop, each of its own steps run with the runner span current; the application's code
    between steps keeps its own context, as the SDK's does. The span ends once: when the loop ends or
    fails, or the loop is dropped unfinished (a `weakref.finalize` on this object: no status then).

    `__next__` / `__anext__` are entered by the runner with each step: `_ended` catches what ours raises.
    """

    __slots__ = ("__weakref__", "_finalizer", "inner", "runner", "span")

    def __init__(self, span: Span, runner: Any, inner: Any) -> None:
        self.span = span
        self.runner = runner
        self.inner = inner
        self._finalizer = weakref.finalize(self, _end_quietly, span, None, None, True)  # never the runner: it holds us

    def _current(self) -> AbstractContextManager[Any]:
        return trace.use_span(self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False)

    def _ended(self, error: BaseException) -> BaseException:
        """The loop ended with `error` (`StopIteration` and its async twin: done); returned unchanged."""
        if self._finalizer.detach() is not None:
            done = isinstance(error, (StopIteration, StopAsyncIteration))
            _end_quietly(self.span, self.runner, None if done else error, isinstance(error, GeneratorExit))
        return error


class SyncSteps(_Steps):
    """A sync runner's loop (`__run__`), inside its span."""

    __slots__ = ()

    def __iter__(self) -> SyncSteps:
        return self

    def __next__(self) -> Any:
        with self._current():
            try:
                return self.inner.__next__()
            except BaseException as error:
                raise self._ended(error)  # noqa: B904 - the very exception, re-raised as it came


class AsyncSteps(_Steps):
    """An async runner's loop (`__run__`), inside its span."""

    __slots__ = ()

    def __aiter__(self) -> AsyncSteps:
        return self

    async def __anext__(self) -> Any:
        with self._current():
            try:
                return await self.inner.__anext__()
            except BaseException as error:
                raise self._ended(error)  # noqa: B904 - the very exception, re-raised as it came


def _end_quietly(span: Span, runner: Any, error: Optional[BaseException], closed: bool) -> None:
    try:
        end_runner(span, runner, error, closed=closed)
    except Exception:
        log.debug("anthropic-otel: could not end a tool runner span", exc_info=True)
        if span.is_recording():  # the end failed before it ended the span
            span.end()


def turn_of(runner: Any, content: Any) -> ToolTurn:
    """The turn whose tools are about to run: its `tool_use` blocks (from the last assistant `content`)."""
    blocks = [block for block in content or () if getattr(block, "type", None) == "tool_use"]
    return ToolTurn(blocks, _shared(runner._client))


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


def tool_span(telemetry: Telemetry, tool: Any, tool_input: object) -> Optional[Span]:
    """The `execute_tool` span of a function tool run inside a runner's turn; None outside one (or on
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
    return telemetry.tracer.start_span(
        f"{operation} {name}" if name else operation, kind=SpanKind.INTERNAL, attributes=attributes
    )


def end_tool(span: Span, error: Optional[BaseException]) -> None:
    """A tool run that raised is `ERROR` with `error.type=tool_error`, as the SDK marks one."""
    try:
        _set_status(span, error, "tool_error")
    finally:
        span.end()


class ToolRun:
    """A function tool's run inside its `execute_tool` span: current while the tool runs, ended once
    after, with the tool's error if it raised (the error itself passes on untouched)."""

    __slots__ = ("span", "token")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.token: Any = None

    def __enter__(self) -> ToolRun:
        self.token = context.attach(trace.set_span_in_context(self.span))
        return self

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        context.detach(self.token)
        try:
            end_tool(self.span, error)
        except Exception:
            log.debug("anthropic-otel: could not end a tool span", exc_info=True)
            if self.span.is_recording():  # the end failed before it ended the span
                self.span.end()


async def run_tool_async(span: Span, wrapped: Wrapped, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An async function tool's run, inside its span."""
    with ToolRun(span):
        return await wrapped(*args, **kwargs)
