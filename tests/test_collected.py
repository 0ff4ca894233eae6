"""Ends asked for by the garbage collector run in a thread of their own (Python before 3.12), and
have ended when the collection returns; every other end runs inline."""

from __future__ import annotations

import contextvars
import gc
import sys
import threading
import weakref
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel._call import collected
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, user_message

AFFECTED = sys.version_info < (3, 12)
VAR: contextvars.ContextVar[int] = contextvars.ContextVar("test_collected", default=0)


class Cycle:
    """An object only the cycle collector frees."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def watching() -> Any:
    collected.install("test")
    try:
        yield
    finally:
        collected.remove("test")


def test_an_end_asked_for_by_a_collection_runs_in_its_own_thread_and_is_done_when_it_returns(watching: Any) -> None:
    ran: list[tuple[str, int]] = []

    def end(value: int) -> None:
        VAR.set(value)  # what an exporting processor does (attach), here safely in the thread's own context
        ran.append((threading.current_thread().name, VAR.get()))

    thing = Cycle()
    weakref.finalize(thing, collected.collected, end, 7)
    del thing
    gc.collect()
    assert ran == [("anthropic-otel-end" if AFFECTED else threading.current_thread().name, 7)]
    assert VAR.get() == 0  # the collecting thread's context is untouched


def test_an_end_outside_a_collection_runs_inline(watching: Any) -> None:
    ran: list[str] = []
    thing = object.__new__(type("Plain", (), {}))
    weakref.finalize(thing, collected.collected, lambda: ran.append(threading.current_thread().name))
    del thing  # freed by its reference count, not by a collection
    assert ran == [threading.current_thread().name]


def test_watching_is_undone_by_the_last_remove() -> None:
    before = list(gc.callbacks)
    collected.install("SDK")
    collected.install("openai SDK")
    collected.remove("openai SDK")
    collected.remove("openai SDK")  # an instrumentor that patched nothing (no openai) is undone too
    assert (collected._phase in gc.callbacks) is AFFECTED
    collected.remove("SDK")
    assert gc.callbacks == before


class EndedIn(SpanProcessor):
    def __init__(self) -> None:
        self.threads: list[str] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.threads.append(threading.current_thread().name)


def test_a_dropped_stream_collected_by_the_collector_ends_its_span_once_off_the_collecting_thread(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    instrument: Any,
    sdk_tracing: bool,
) -> None:
    ended = EndedIn()
    tracer_provider.add_span_processor(ended)
    api.queue(MessageReply(text="hello there"))
    stream = make_client().messages.create(
        model="claude-haiku-4-5", max_tokens=16, messages=user_message(), stream=True
    )
    next(iter(stream))
    holder = Cycle()  # as in an application whose objects hold each other: only the collector frees it
    holder.stream = stream  # type: ignore[attr-defined]
    del stream, holder
    gc.collect()
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["anthropic.stream.completed"] is False
    # Our span ends off the collecting thread; the SDK's own (1.14+) is ended by the SDK's code, there.
    ours_off = AFFECTED and not sdk_tracing
    assert ended.threads == ["anthropic-otel-end" if ours_off else threading.current_thread().name]
