"""The tool runner's loop (`beta.messages.tool_runner`): its span on SDKs that do not trace it, its totals on all.

SDK 1.14+ gives a tool runner an INTERNAL `anthropic.messages.tool_runner` span
(`gen_ai.operation.name=invoke_agent`) that is the parent of the runner's model calls and of one
INTERNAL span per tool run (`_tool_runs`). Older SDKs that have the runner (0.68 to 1.13) get the
same spans, names and attributes from here; on 1.14+ no span is added, whatever the client's own
tracing says, so that no runner ever has two.

`__run__`, the generator (sync) or async generator behind iterating the runner, is watched on every
version: each of its steps runs with the run's totals current (`agent_run.RUN`), and, before 1.14,
with our span current, so that the model calls made in it are the run's and the span's children;
the application's code between steps keeps its own context, as the SDK does. The span starts with
the first step and ends once, when the loop ends, fails, or is closed (also when the runner is
dropped), with the run's totals on it; `gen_ai.invoke_agent.duration` is recorded then.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel._call.agent_run import RUN, AgentRun, totals_on
from anthropic_otel._call.collected import collected
from anthropic_otel._read.attributes import Attributes, error_type, field
from anthropic_otel._routes import current_conversation, current_route
from anthropic_otel._sdk import client_conversation, provider_name, sdk_has_tracing
from anthropic_otel._telemetry import Telemetry

__all__ = [
    "Steps",
    "async_steps",
    "end_runner",
    "runner_attributes",
    "runner_run",
    "runner_span",
    "sdk_traces_runners",
    "set_status",
    "shared_attributes",
    "sync_steps",
]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def sdk_traces_runners() -> bool:
    """Whether the installed SDK makes the runner and tool spans itself (1.14+, the same that traces calls)."""
    return sdk_has_tracing()


def shared_attributes(client: Any) -> Attributes:
    attributes: Attributes = {"gen_ai.provider.name": provider_name(client)}
    conversation = current_conversation() or client_conversation(client)
    if conversation is not None:
        attributes["gen_ai.conversation.id"] = conversation
    return attributes


def runner_attributes(runner: Any) -> Attributes:
    params = getattr(runner, "_params", None)
    client = getattr(runner, "_client", None)
    attributes: Attributes = {"gen_ai.operation.name": "invoke_agent", **shared_attributes(client)}
    model = field(params, "model")
    if isinstance(model, str):
        attributes["gen_ai.request.model"] = model
    output_format = field(params, "output_config", "format")
    if field(output_format, "type") == "json_schema" or isinstance(field(params, "output_format"), type):
        attributes["gen_ai.output.type"] = "json"
    return attributes


def set_status(span: Span, error: Optional[BaseException], kind: Optional[str] = None) -> None:
    """`OK`, or `ERROR` with `error.type` for an `Exception`; anything else (a close, a cancel) leaves it unset."""
    if error is None:
        span.set_status(Status(StatusCode.OK))
    elif isinstance(error, Exception):
        span.set_status(Status(StatusCode.ERROR))
        span.set_attribute("error.type", kind or error_type(error))


def runner_run(telemetry: Telemetry, runner: Any) -> AgentRun:
    """The totals of a runner loop that is starting, with the attributes its metric points take."""
    attributes = runner_attributes(runner)
    route = current_route(telemetry.routes)
    if route is not None:
        attributes["anthropic.route"] = route
    return AgentRun(telemetry, attributes)


def runner_span(telemetry: Optional[Telemetry], runner: Any) -> Optional[Span]:
    """The `invoke_agent` span of a runner starting its loop; None when we make none (SDK 1.14+ does)."""
    if telemetry is None or sdk_traces_runners():
        return None
    return telemetry.tracer.start_span(
        "anthropic.messages.tool_runner", kind=SpanKind.INTERNAL, attributes=runner_attributes(runner)
    )


def end_runner(span: Span, runner: Any, error: Optional[BaseException], *, closed: bool) -> None:
    """End the runner span: its status unless the loop was closed (by the application, or the runner)."""
    try:
        if not (closed or getattr(runner, "_closed", False) is True):
            set_status(span, error)
    finally:
        span.end()


class Steps:
    """What the runner's loop runs with: the run (and the runner span, if we made one), made current
    around each of the SDK's own steps; the application's code between steps keeps its own context, as
    the SDK's does. The loop ends once: when it ends, fails or is closed, or when it is dropped
    unfinished (a `weakref.finalize` on this object, which only the loop's generator holds: no status
    then), with the run's totals on the span and its duration recorded.
    """

    __slots__ = ("__weakref__", "_finalizer", "run", "runner", "span")

    def __init__(self, span: Optional[Span], run: AgentRun, runner: Any) -> None:
        self.span = span
        self.run = run
        self.runner = runner
        # Never the runner: it holds the loop, which holds us.
        self._finalizer = weakref.finalize(self, collected, _end_quietly, span, run, None, None, True)

    @contextlib.contextmanager
    def _current(self) -> Iterator[None]:
        token = RUN.set(self.run)
        try:
            if self.span is None:
                yield
            else:
                with trace.use_span(
                    self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    yield
        finally:
            RUN.reset(token)

    @contextlib.contextmanager
    def _step(self) -> Iterator[None]:
        """One of the SDK's steps (or its close), with the run current: a step that raises ends the run,
        and its error passes on as it came. (The end of the loop, `StopIteration`, is caught inside.)"""
        with self._current():
            try:
                yield
            except BaseException as error:
                raise self._ended(error)  # noqa: B904 - the very exception, re-raised as it came

    def _ended(self, error: BaseException) -> BaseException:
        """The loop ended with `error` (`StopIteration` and its async twin: done); returned unchanged."""
        if self._finalizer.detach() is not None:
            done = isinstance(error, (StopIteration, StopAsyncIteration))
            _end_quietly(self.span, self.run, self.runner, None if done else error, isinstance(error, GeneratorExit))
        return error


# The loop the runner keeps (`runner._iterator`) is a generator of ours around the SDK's `__run__`,
# never an object of another type: the SDK inspects it as its own (`inspect.getgeneratorstate`,
# `ag_running`), closes it (`close`, `aclose`) and may send or throw into it, and a generator of ours
# answers all of that as the SDK's does, each step passed on to the SDK's generator.


def sync_steps(steps: Steps, inner: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """A sync runner's loop (`__run__`), each step with the run current."""
    step: Callable[[Any], Any] = inner.send  # send(None): the next item, also the first
    value: Any = None
    while True:
        with steps._step():
            try:
                item = step(value)
            except StopIteration as done:
                steps._ended(done)
                return done.value
        try:
            sent = yield item
        except GeneratorExit as closing:
            with steps._step():
                inner.close()
            raise steps._ended(closing)  # noqa: B904 - the very exception, re-raised as it came
        except BaseException as thrown:
            step, value = inner.throw, thrown
        else:
            step, value = inner.send, sent


async def async_steps(steps: Steps, inner: AsyncGenerator[Any, Any]) -> AsyncGenerator[Any, Any]:
    """An async runner's loop (`__run__`), each step with the run current."""
    step: Callable[[Any], Awaitable[Any]] = inner.asend  # asend(None): the next item, also the first
    value: Any = None
    while True:
        with steps._step():
            try:
                item = await step(value)
            except StopAsyncIteration as done:
                steps._ended(done)
                return
        try:
            sent = yield item
        except GeneratorExit as closing:
            with steps._step():
                await inner.aclose()
            raise steps._ended(closing)  # noqa: B904 - the very exception, re-raised as it came
        except BaseException as thrown:
            step, value = inner.athrow, thrown
        else:
            step, value = inner.asend, sent


def _end_quietly(
    span: Optional[Span], run: AgentRun, runner: Any, error: Optional[BaseException], closed: bool
) -> None:
    try:
        try:
            totals_on(span, run)
        finally:
            if span is not None:
                end_runner(span, runner, error, closed=closed)
    except Exception:
        log.debug("anthropic-otel: could not end a tool runner span", exc_info=True)
        if span is not None and span.is_recording():  # the end failed before it ended the span
            span.end()
    try:
        run.finished(error_type(error) if isinstance(error, Exception) else None)
    except Exception:
        log.debug("anthropic-otel: could not record a tool runner's run", exc_info=True)
