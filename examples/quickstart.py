"""Quick start: instrument the SDK, make a few calls against the local fake Claude API, print
what OpenTelemetry received. No API key, no Docker, no network.

    make demo            # or: python examples/quickstart.py

Point it at the real API instead with `--live` (needs ANTHROPIC_API_KEY).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply

MODEL = "claude-sonnet-4-6"
SHOWN = (
    "anthropic.request.id",
    "gen_ai.request.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.response.finish_reasons",
    "gen_ai.response.time_to_first_chunk",
    "http.request.resend_count",
    "anthropic.ratelimit.requests.remaining",
    "error.type",
)


@contextmanager
def claude_api(live: bool) -> Iterator[FakeClaudeAPI | None]:
    if live:
        yield None
        return
    with FakeClaudeAPI() as api:
        yield api


def run(live: bool) -> None:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    AnthropicInstrumentor().instrument(
        tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    with claude_api(live) as api:
        if api is not None:
            client = anthropic.Anthropic(base_url=api.base_url, api_key="sk-ant-demo", max_retries=2)
            api.queue(
                MessageReply(
                    text="Ticket 47928 is a billing question.", usage={"input_tokens": 850, "output_tokens": 12}
                ),
                ErrorReply(429, retry_after=0.05),
                MessageReply(
                    text="Routed to billing.",
                    usage={"input_tokens": 40, "output_tokens": 5, "cache_read_input_tokens": 800},
                ),
                MessageReply(text="Hello! How can I help with your ticket today?"),
                ErrorReply(400, message="max_tokens: must be at least 1"),
            )
        else:
            client = anthropic.Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])
        ask = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Triage ticket 47928"}]}
        client.messages.create(**ask)
        client.messages.create(**ask)  # the fake API answers 429 once; the SDK retries
        for _ in client.messages.create(stream=True, **ask):
            pass
        try:
            client.messages.create(**{**ask, "max_tokens": 0})
        except anthropic.BadRequestError as error:
            print(f"(the app saw {type(error).__name__}: status {error.status_code})\n")

    for span in spans.get_finished_spans():
        print(f"span {span.name}  status={span.status.status_code.name}")
        for key in SHOWN:
            if key in span.attributes:
                print(f"    {key} = {span.attributes[key]}")
    print("\nmetrics")
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "sum", None) if hasattr(point, "count") else point.value
                    count = f" count={point.count}" if hasattr(point, "count") else ""
                    labels = {
                        k: v
                        for k, v in point.attributes.items()
                        if k in ("gen_ai.token.type", "error.type", "anthropic.cache.operation")
                    }
                    print(f"    {metric.name} {labels or ''}{count} sum={value:g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", action="store_true", help="call the real Claude API (needs ANTHROPIC_API_KEY)")
    run(parser.parse_args().live)


if __name__ == "__main__":
    main()
