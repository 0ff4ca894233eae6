"""Routes and conversations: which part of the application a call belongs to.

`route("ticket-triage")` tags every call made inside it (spans, metric points and log records)
with `anthropic.route`, so spend and latency can be charted per feature. It is a context
manager and a decorator, for sync and async code; it lives in a contextvar, so concurrent tasks
and threads keep their own. The OpenTelemetry baggage entry `anthropic.route` works as well, for
routes set by an upstream service.

Route names come from application code, so their number is capped (`ANTHROPIC_OTEL_MAX_ROUTES`,
default 100) to keep metric cardinality bounded: later names are recorded as `other`, and a
warning says so once.

`conversation("conv-123")` sets `gen_ai.conversation.id` on spans only: ids are unbounded and
never go on metrics.
"""

from __future__ import annotations

import functools
import inspect
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Callable, Optional, TypeVar

from opentelemetry import baggage

from anthropic_otel._cardinality import OTHER, ValueLimiter

__all__ = ["OTHER", "RouteLimiter", "conversation", "current_conversation", "current_route", "route"]

BAGGAGE_KEY = "anthropic.route"
_route: ContextVar[Optional[str]] = ContextVar("anthropic_otel_route", default=None)
_conversation: ContextVar[Optional[str]] = ContextVar("anthropic_otel_conversation", default=None)

F = TypeVar("F", bound=Callable[..., Any])


class _Scope:
    """Sets a contextvar for a `with` block or for each call of a decorated function.

    One object may be entered by many tasks and threads at once (a module-level
    `TRIAGE = route("triage")` used as `async with TRIAGE:`), so what each use must restore lives
    in the context of that use (`_saved`, a stack per context), never on the object.
    """

    _var: ContextVar[Optional[str]]
    _saved: ContextVar[tuple[Optional[str], ...]]

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{type(self).__name__}() needs a non-empty string, got {value!r}")
        self.value = value

    def __enter__(self) -> _Scope:
        self._saved.set((*self._saved.get(), self._var.get()))
        self._var.set(self.value)
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        saved = self._saved.get()
        if saved:
            self._var.set(saved[-1])
            self._saved.set(saved[:-1])

    async def __aenter__(self) -> _Scope:
        return self.__enter__()

    async def __aexit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        self.__exit__(kind, error, traceback)

    def __call__(self, function: F) -> F:
        """Use as a decorator: each call runs in a fresh scope (safe for concurrent calls)."""
        scope_type, value = type(self), self.value
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with scope_type(value):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with scope_type(value):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]


class route(_Scope):  # lower case: used like a function, `with route("x"):` and `@route("x")`
    """Tag calls inside with `anthropic.route` (spans, metrics, log records)."""

    _var = _route
    _saved = ContextVar("anthropic_otel_route_saved", default=())


class conversation(_Scope):
    """Tag calls inside with `gen_ai.conversation.id` (spans and log records, never metrics)."""

    _var = _conversation
    _saved = ContextVar("anthropic_otel_conversation_saved", default=())


def current_conversation() -> Optional[str]:
    return _conversation.get()


class RouteLimiter(ValueLimiter):
    """At most `limit` distinct route names per process; the rest become `other`."""

    def __init__(self, limit: int) -> None:
        hint = "Raise ANTHROPIC_OTEL_MAX_ROUTES if these routes are real, or use fewer, coarser route names."
        super().__init__(limit, what="routes", hint=hint)


def current_route(limiter: RouteLimiter) -> Optional[str]:
    """The route of the running code: `route()` first, else the baggage entry; capped by `limiter`."""
    name = _route.get()
    if name is None:
        from_baggage = baggage.get_baggage(BAGGAGE_KEY)
        name = from_baggage if isinstance(from_baggage, str) and from_baggage else None
    return None if name is None else limiter.admit(name)
