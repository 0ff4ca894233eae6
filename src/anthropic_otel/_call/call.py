"""`Call`: the live state of one API call, from the SDK's `request()` to the end of what it returned.

One `Call` per call, of either SDK (Anthropic, or `openai` through the Claude API's compatibility
layer). It owns the choices made for the call (which span records it: ours or the SDK's; whether
ours is current), what is learnt while it runs (attempts, retries, the final response), the memo
that keeps both span paths from working out the same facts twice, the call's diagnosis and content,
and the flag that makes its end happen once (`end.end`). Everything else hands it values.

While `request()` runs, the call is the current one (a contextvar, so threads and asyncio tasks
never see each other's calls) and the hooks deeper in the SDK report into it.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from anthropic_otel._read.attributes import Attributes
from anthropic_otel._read.operations import Operation
from anthropic_otel._telemetry import Telemetry

if TYPE_CHECKING:
    from anthropic_otel._content_capture import CallContent
    from anthropic_otel._diagnostics import CallDiagnosis

__all__ = ["CURRENT", "FIRST_PARTY_PLATFORM", "Call", "CallToken", "enter", "note_attempt", "note_retry"]

_T = TypeVar("_T")
# The call that the running code is part of, if it is one we record. Hooks read it with `CURRENT.get()`.
CURRENT: ContextVar[Optional[Call]] = ContextVar("anthropic_otel_call", default=None)
FIRST_PARTY_PLATFORM: tuple[str, Optional[str]] = ("anthropic", None)


class Call:
    """Everything known about one call while it runs.

    `span` is ours when we made one; `sdk_span` the SDK's (1.14+) once it handed it to us. `current`
    says whether our span is made current while `request()` runs (see `start`). `watcher` is the
    recorder of a result the application reads later (a stream, batch results, an unread body).
    """

    __slots__ = (
        "__weakref__",
        "_context",
        "attempt_url",
        "attributes",
        "content",
        "current",
        "diagnosis",
        "ended",
        "memo",
        "operation",
        "platform",
        "request",
        "response",
        "retries",
        "run",
        "sdk_annotated",
        "sdk_end",
        "sdk_span",
        "span",
        "start_ns",
        "start_s",
        "telemetry",
        "traced",
        "watcher",
    )

    def __init__(self, telemetry: Telemetry, operation: Operation, attributes: Attributes, request: Any) -> None:
        self.telemetry = telemetry
        self.operation = operation
        self.attributes = attributes
        self.request = request
        self.start_s = time.perf_counter()
        self.start_ns = time.time_ns()
        self.span: Optional[Span] = None
        self.sdk_span: Optional[Span] = None
        self.sdk_annotated = False
        # The SDK's own end of its span, held back until the call ends (see `sdk_span.body_ending`).
        self.sdk_end: Optional[Callable[[], Any]] = None
        self.current = False
        self.traced = True  # False: no span at all (a client that opted out of tracing)
        self.response: Any = None
        self.retries = 0
        self.attempt_url: Any = None
        self.diagnosis: Optional[CallDiagnosis] = None
        self.content: Optional[CallContent] = None
        self.memo: dict[str, tuple[Any, Any]] = {}
        self.watcher: Any = None
        self.run: Any = None  # the tool runner loop the call was made in, if any (`agent_run.AgentRun`)
        self.ended = False
        self._context: Optional[Context] = None
        # Whose prices the call pays (`_sdk.platform_of`): the Claude API's unless a platform client made it.
        self.platform: tuple[str, Optional[str]] = FIRST_PARTY_PLATFORM

    @property
    def context(self) -> Optional[Context]:
        """A context holding the call's span (ours or the SDK's), for exemplars, records and children."""
        span = self.span or self.sdk_span
        if span is None:
            return None
        context = self._context
        if context is None or trace.get_current_span(context) is not span:
            context = self._context = trace.set_span_in_context(span)
        return context

    def once(self, name: str, source: Any, work: Callable[[], _T]) -> _T:
        """`work()`, done once per `source` object: the SDK's span and the call's end ask for the same
        facts (headers, body attributes, cost) at two points of one call."""
        hit = self.memo.get(name)
        if hit is not None and hit[0] is source:
            return cast(_T, hit[1])
        value = work()
        self.memo[name] = (source, value)
        return value


CallToken = tuple["Token[Optional[Call]]", Optional[object]]


def enter(call: Call) -> CallToken:
    """Make `call` the current call (and our span the current span if it is to be): a token to undo it
    with (`CURRENT.reset`, `context.detach`), undone by the guard that entered it (`Recording.__exit__`),
    so that no fault of ours can leave a call current after it.

    Tokens belong to each use, so a call entered in one task or thread is left in that one.
    """
    context_token: Optional[object] = None
    if call.current and call.span is not None:
        context_token = otel_context.attach(trace.set_span_in_context(call.span))
    return (CURRENT.set(call), context_token)


def note_attempt(call: Call, retries_taken: int, request: Any) -> None:
    """An HTTP attempt of `call` is being sent: counts retries, keeps the first URL."""
    call.retries = max(call.retries, retries_taken)
    if call.attempt_url is None:
        call.attempt_url = getattr(request, "url", None)
    if retries_taken and call.diagnosis is not None:
        call.telemetry.diagnostics.on_attempt(call.diagnosis)


def note_retry(call: Call, response: Any) -> None:
    """The SDK retries an attempt of `call` that got `response` (a 429, 529, 5xx, ...)."""
    if call.diagnosis is not None:
        call.telemetry.diagnostics.on_retry(call.diagnosis, response)
