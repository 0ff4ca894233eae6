"""`gen_ai.client.operation.time_per_output_chunk`: one point per stream, the mean time between its
output chunks (content deltas; for the OpenAI compatibility layer, content or tool call deltas).

Semconv asks for a point per chunk after the first; a histogram measurement costs the OpenTelemetry
SDK about 10 µs, so a stream records the mean once, and reads a clock per chunk.
"""

from __future__ import annotations

import itertools
import time

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from anthropic_otel._call.watch import ChunkClock
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, metric_points, user_message

pytestmark = pytest.mark.usefixtures("instrument")

GAP = 0.25  # seconds between two readings of the test's clock


@pytest.fixture
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks read exactly GAP seconds apart."""
    start = time.perf_counter()
    ticks = (start + GAP * index for index in itertools.count(1))
    monkeypatch.setattr(ChunkClock, "clock", staticmethod(lambda: next(ticks)))


def chunk_points(reader: InMemoryMetricReader) -> list[tuple[int, float]]:
    return [
        (point.count, point.sum) for point in metric_points(reader, "gen_ai.client.operation.time_per_output_chunk")
    ]


@pytest.mark.usefixtures("steady_clock")
def test_one_point_per_stream_the_mean_gap_between_chunks(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    client = make_client()
    api.queue(*(MessageReply(text=text) for text in ("one two three four five six seven eight", "plain", "short")))
    events = [
        event.type for event in client.messages.create(model="m", max_tokens=9, messages=user_message(), stream=True)
    ]
    assert events.count("content_block_delta") == 4  # two words a delta
    client.messages.create(model="m", max_tokens=9, messages=user_message())  # not a stream: no point
    one_chunk = list(client.messages.create(model="m", max_tokens=9, messages=user_message(), stream=True))
    assert [event.type for event in one_chunk].count("content_block_delta") == 1  # one chunk: no gap to measure

    assert chunk_points(metric_reader) == [(1, GAP)]


def test_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = ChunkClock()
    assert chunks.per_chunk() is None
    readings = iter([10.0, 10.5, 12.0, 13.5])
    monkeypatch.setattr(ChunkClock, "clock", staticmethod(lambda: next(readings)))
    assert chunks.tick() == 10.0
    assert chunks.per_chunk() is None
    for _ in range(3):
        chunks.tick()
    assert chunks.per_chunk() == 3.5 / 3
