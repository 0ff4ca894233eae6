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
import inspect
import logging
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from typing import Any, Callable, Optional

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel.attributes import Attributes, error_type, field
from anthropic_otel.routes import current_conversation
from anthropic_otel.sdk import client_conversation, provider_name, sdk_has_tracing
from anthropic_otel.telemetry import Telemetry

__all__ = ["ToolTurn", "run_tool", "sdk_traces_runners", "trace_run", "trace_turn"]

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


_turn: ContextVar[Optional[ToolTurn]] = ContextVar("anthropic_otel_tool_turn", default=None)


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


def trace_run(telemetry: Telemetry, runner: Any, inner: Any) -> Any:
    """The runner's loop `inner` (generator or async generator), driven inside the runner span."""
    if inspect.isasyncgen(inner):
        return _run_async(telemetry, runner, inner)
    return _run_sync(telemetry, runner, inner)


def _start_runner_span(telemetry: Telemetry, runner: Any) -> Optional[Span]:
    try:
        return telemetry.tracer.start_span(
            "anthropic.messages.tool_runner", kind=SpanKind.INTERNAL, attributes=_runner_attributes(runner)
        )
    except Exception:
        log.debug("anthropic-otel: could not start a tool runner span", exc_info=True)
        return None


def _end(span: Optional[Span], error: Optional[BaseException], *, closed: bool = False) -> None:
    if span is None:
        return
    try:
        if not closed:
            _set_status(span, error)
        span.end()
    except Exception:
        log.debug("anthropic-otel: could not end a tool runner span", exc_info=True)


def _current(span: Optional[Span]) -> AbstractContextManager[Any]:
    """`span` current for the block, not ended by it; nothing for no span."""
    if span is None:
        return nullcontext()
    return trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False)


def _run_sync(telemetry: Telemetry, runner: Any, inner: Generator[Any, None, None]) -> Iterator[Any]:
    span = _start_runner_span(telemetry, runner)
    error: Optional[BaseException] = None
    closed = False
    try:
        while True:
            # The runner's own steps run with its span current; the application's code between them does not.
            with _current(span):
                try:
                    item = next(inner)
                except StopIteration:
                    break
            yield item
    except GeneratorExit:
        closed = True
        raise
    except BaseException as failure:
        error = failure
        raise
    finally:
        try:
            with _current(span):
                inner.close()
        finally:
            _end(span, error, closed=closed or getattr(runner, "_closed", False) is True)


async def _run_async(telemetry: Telemetry, runner: Any, inner: Any) -> AsyncIterator[Any]:
    span = _start_runner_span(telemetry, runner)
    error: Optional[BaseException] = None
    closed = False
    try:
        while True:
            with _current(span):
                try:
                    item = await inner.__anext__()
                except StopAsyncIteration:
                    break
            yield item
    except GeneratorExit:
        closed = True
        raise
    except BaseException as failure:
        error = failure
        raise
    finally:
        try:
            with _current(span):
                await inner.aclose()
        finally:
            _end(span, error, closed=closed or getattr(runner, "_closed", False) is True)


def _tool_uses(content: Any) -> list[Any]:
    return [block for block in content or () if getattr(block, "type", None) == "tool_use"]


def trace_turn(
    telemetry: Telemetry, wrapped: Wrapped, runner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`_generate_tool_call_response`: run the turn's tools with its `tool_use` blocks noted (sync or async)."""
    if inspect.iscoroutinefunction(wrapped):
        return _turn_async(wrapped, runner, args, kwargs)
    try:
        turn: Optional[ToolTurn] = ToolTurn(
            _tool_uses(runner._get_last_assistant_message_content()), _shared(runner._client)
        )
    except Exception:
        log.debug("anthropic-otel: could not read a tool runner turn", exc_info=True)
        turn = None
    token = _turn.set(turn)
    try:
        return wrapped(*args, **kwargs)
    finally:
        _turn.reset(token)


async def _turn_async(wrapped: Wrapped, runner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        content = await runner._get_last_assistant_message_content()
        turn: Optional[ToolTurn] = ToolTurn(_tool_uses(content), _shared(runner._client))
    except Exception:
        log.debug("anthropic-otel: could not read a tool runner turn", exc_info=True)
        turn = None
    token = _turn.set(turn)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _turn.reset(token)


def _start_tool_span(telemetry: Telemetry, tool: Any, block: Any, turn: ToolTurn) -> Optional[Span]:
    try:
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
    except Exception:
        log.debug("anthropic-otel: could not start a tool span", exc_info=True)
        return None


def _end_tool(span: Optional[Span], error: Optional[BaseException]) -> None:
    if span is None:
        return
    try:
        _set_status(span, error, "tool_error")
        span.end()
    except Exception:
        log.debug("anthropic-otel: could not end a tool span", exc_info=True)


def run_tool(telemetry: Telemetry, wrapped: Wrapped, tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A function tool's `call(input)` inside the runner: in its `execute_tool` span (sync or async)."""
    turn = _turn.get()
    block = turn.take(args[0] if args else kwargs.get("input")) if turn is not None else None
    if turn is None or block is None:
        return wrapped(*args, **kwargs)
    span = _start_tool_span(telemetry, tool, block, turn)
    if inspect.iscoroutinefunction(wrapped):
        return _run_tool_async(span, wrapped, args, kwargs)
    with _current(span):
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            _end_tool(span, error)
            raise
    _end_tool(span, None)
    return result


async def _run_tool_async(span: Optional[Span], wrapped: Wrapped, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    with _current(span):
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as error:
            _end_tool(span, error)
            raise
    _end_tool(span, None)
    return result
