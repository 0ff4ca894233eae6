"""Concurrency: 8 threads and 50 asyncio tasks at once, each in its own route, conversation and parent span.

Every call is told apart by the usage the fake API answers it with (`x-fake-reply` header:
input tokens = 10,000 + its number). Its span must have its own task's parent, route and
conversation, and its own usage, also for streams read event by event while other tasks read
theirs and for streams abandoned mid-way. Nothing of a call remains current after it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from tests.conftest import ClientFactory, metric_points, spans_named, user_message

pytestmark = pytest.mark.usefixtures("instrument")

THREADS, THREAD_CALLS = 8, 12
TASKS, TASK_CALLS = 50, 4
BASE = 10_000
MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class Expected:
    parent: int
    route: str
    conversation: str
    stream: bool
    complete: bool


def reply_for(number: int) -> dict[str, str]:
    usage = {
        "input_tokens": BASE + number,
        "output_tokens": number,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    return {"x-fake-reply": json.dumps({"usage": usage, "text": f"answer {number}"})}


class Ledger:
    """What each numbered call should look like; thread-safe numbering."""

    def __init__(self) -> None:
        self._numbers = count(1)
        self._lock = threading.Lock()
        self.expected: dict[int, Expected] = {}

    def next(self, parent: trace.Span, route: str, conversation: str, *, stream: bool, complete: bool = True) -> int:
        with self._lock:
            number = next(self._numbers)
            self.expected[number] = Expected(parent.get_span_context().span_id, route, conversation, stream, complete)
        return number


def check_clean(parent: trace.Span) -> None:
    """After a call, the caller's context is exactly what it was."""
    assert trace.get_current_span() is parent


def thread_job(index: int, client: Any, tracer: trace.Tracer, ledger: Ledger, start: threading.Barrier) -> None:
    name = f"thread-{index}"
    start.wait()
    with (
        tracer.start_as_current_span(f"parent-{name}") as parent,
        anthropic_otel.route(name),
        anthropic_otel.conversation(f"conv-{name}"),
    ):
        for step in range(THREAD_CALLS):
            kind = step % 3
            number = ledger.next(parent, name, f"conv-{name}", stream=kind != 0)
            ask: dict[str, Any] = {"model": MODEL, "max_tokens": 32, "messages": user_message(name)}
            if kind == 0:
                message = client.messages.create(**ask, extra_headers=reply_for(number))
                assert message.usage.input_tokens == BASE + number
            elif kind == 1:
                events = list(client.messages.create(**ask, stream=True, extra_headers=reply_for(number)))
                assert events[-1].type == "message_stop"
            else:
                with client.messages.stream(**ask, extra_headers=reply_for(number)) as stream:
                    assert stream.get_final_message().usage.output_tokens == number
            check_clean(parent)


async def task_job(index: int, client: Any, tracer: trace.Tracer, ledger: Ledger) -> None:
    name = f"task-{index}"
    ask: dict[str, Any] = {"model": MODEL, "max_tokens": 32, "messages": user_message(name)}
    with tracer.start_as_current_span(f"parent-{name}") as parent:
        async with anthropic_otel.route(name), anthropic_otel.conversation(f"conv-{name}"):
            number = ledger.next(parent, name, f"conv-{name}", stream=False)
            message = await client.messages.create(**ask, extra_headers=reply_for(number))
            assert message.usage.input_tokens == BASE + number
            check_clean(parent)

            # a stream read event by event, yielding to the other tasks' streams in between
            number = ledger.next(parent, name, f"conv-{name}", stream=True)
            stream = await client.messages.create(**ask, stream=True, extra_headers=reply_for(number))
            async for _event in stream:
                await asyncio.sleep(0)
                assert trace.get_current_span() is parent
            check_clean(parent)

            number = ledger.next(parent, name, f"conv-{name}", stream=True)
            async with client.messages.stream(**ask, extra_headers=reply_for(number)) as helper:
                async for _text in helper.text_stream:
                    await asyncio.sleep(0)
                assert (await helper.get_final_message()).usage.output_tokens == number
            check_clean(parent)

            # abandoned after two events: ends with what it saw (input tokens, no output count)
            number = ledger.next(parent, name, f"conv-{name}", stream=True, complete=False)
            stream = await client.messages.create(**ask, stream=True, extra_headers=reply_for(number))
            seen = 0
            async for _event in stream:
                seen += 1
                await asyncio.sleep(0)
                if seen == 2:
                    break
            await stream.close()
            check_clean(parent)


def most_open_at_once(spans: list[Any]) -> int:
    """The largest number of spans open at the same moment."""
    edges = sorted([(span.start_time, 1) for span in spans] + [(span.end_time, -1) for span in spans])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def test_threads_and_tasks_never_see_each_others_calls(
    sdk_tracing: bool,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    tracer = tracer_provider.get_tracer("app")
    ledger = Ledger()
    sync_client = make_client(sdk_tracing=sdk_tracing)
    async_client = make_client(async_=True, sdk_tracing=sdk_tracing)
    start = threading.Barrier(THREADS + 1)

    async def tasks() -> None:
        start.wait()
        await asyncio.gather(*(task_job(index, async_client, tracer, ledger) for index in range(TASKS)))
        await async_client.close()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(thread_job, index, sync_client, tracer, ledger, start) for index in range(THREADS)]
        asyncio.run(tasks())
        for future in futures:
            future.result()
    sync_client.close()

    total = THREADS * THREAD_CALLS + TASKS * TASK_CALLS
    assert len(ledger.expected) == total
    call_spans = spans_named(span_exporter, "anthropic.messages.create")
    assert len(call_spans) == total
    assert len([span for span in span_exporter.get_finished_spans() if span.name.startswith("parent-")]) == (
        THREADS + TASKS
    )
    seen: set[int] = set()
    for span in call_spans:
        attributes = span.attributes or {}
        number = int(attributes["gen_ai.usage.input_tokens"]) - BASE  # type: ignore[call-overload]
        expected = ledger.expected[number]
        assert span.parent is not None
        assert span.parent.span_id == expected.parent
        assert attributes["anthropic.route"] == expected.route
        assert attributes["gen_ai.conversation.id"] == expected.conversation
        assert attributes.get("gen_ai.request.stream", False) is expected.stream
        if expected.complete:
            assert attributes["gen_ai.usage.output_tokens"] == number
        else:
            assert attributes["anthropic.stream.completed"] is False
            assert "gen_ai.usage.output_tokens" not in attributes
        seen.add(number)
    assert seen == set(ledger.expected)  # each call exactly once
    assert most_open_at_once(call_spans) >= TASKS  # the calls really ran at the same time

    per_route = {
        point.attributes["anthropic.route"]: point.count
        for point in metric_points(metric_reader, "gen_ai.client.operation.duration")
    }
    assert per_route == {
        **{f"thread-{index}": THREAD_CALLS for index in range(THREADS)},
        **{f"task-{index}": TASK_CALLS for index in range(TASKS)},
    }
    tokens = metric_points(metric_reader, "gen_ai.client.token.usage")
    input_total = sum(point.sum for point in tokens if point.attributes["gen_ai.token.type"] == "input")
    assert input_total == sum(BASE + number for number in ledger.expected)
