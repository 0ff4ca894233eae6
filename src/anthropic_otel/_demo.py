"""The workload of `anthropic-otel demo`: a small ticket-triage service, run under the instrumentation.

It exists so that a newcomer sees real telemetry in one command, with no key, no Docker and no
network: it starts the local fake Claude API (`anthropic_otel.testing`), instruments the real SDK
with in-memory exporters (and OTLP when asked), and makes the calls a real service makes: plain
calls, a cached system prompt, a streamed answer, a tool loop, a rate limit the SDK retries, a
rejected request, token counting and a small batch. `--live` runs the same steps against the real
API. What the run recorded is returned for `cli` to print.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional

import anthropic
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._routes import route
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply, ToolUse
from anthropic_otel.testing._replies import Reply

__all__ = ["OTLP_HINT", "STEPS", "DemoError", "DemoRun", "Workload", "run_demo"]

MODEL = "claude-sonnet-4-6"
FAST_MODEL = "claude-haiku-4-5"
FAKE_KEY = "sk-ant-demo-not-a-real-key"
OTLP_HINT = "pip install opentelemetry-exporter-otlp-proto-http"
TICKET = "Order A-1042 was charged twice and still has not shipped. Please fix this today."
# Long enough for the real prompt cache (1,024 tokens at least), like a real service's policy.
POLICY = "You triage support tickets for an online shop. Rules:\n" + "\n".join(
    f"{n}. Tickets about {topic} go to the {team} team; answer within {hours} hours and quote the order id."
    for n, (topic, team, hours) in enumerate(
        [
            ("billing", "billing", 4),
            ("shipping", "logistics", 8),
            ("refunds", "billing", 4),
            ("accounts", "support", 24),
        ]
        * 12,
        start=1,
    )
)
LOOKUP_TOOL = {
    "name": "lookup_order",
    "description": "Look up an order's status by its id.",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
}


class DemoError(Exception):
    """A reason the demo cannot run, worded for the user (no traceback needed)."""


@dataclass
class DemoRun:
    """What one run recorded: the finished spans (in call order) and one metrics collection."""

    spans: list[ReadableSpan]
    metrics: Optional[MetricsData]
    otlp_endpoint: Optional[str]


class Workload:
    """The client, and the fake API to script when not live (scripted replies are skipped live).

    The client is typed `Any`: the workload runs on every supported SDK version, whose types differ.
    """

    def __init__(self, client: Any, fake: Optional[FakeClaudeAPI]) -> None:
        self.client = client
        self.fake = fake

    def script(self, *replies: Reply) -> None:
        if self.fake is not None:
            self.fake.queue(*replies)

    def ask(self, text: str, model: str = MODEL, max_tokens: int = 256, **options: Any) -> Any:
        messages = [{"role": "user", "content": text}]
        return self.client.messages.create(model=model, max_tokens=max_tokens, messages=messages, **options)


def _text(message: Any) -> str:
    return " ".join(block.text for block in message.content if getattr(block, "type", None) == "text").strip()


def classify(work: Workload) -> str:
    work.script(MessageReply(text="billing", stop_reason="end_turn"))
    message = work.ask(f"One word, the team for this ticket: {TICKET}", model=FAST_MODEL, max_tokens=8)
    return f"team: {_text(message)}"


def cached_policy(work: Workload) -> str:
    work.script(MessageReply(text="Priority: high. Team: billing. Reply within 4 hours."))
    system = [{"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral"}}]
    message = work.ask(f"Triage this ticket: {TICKET}", system=system)
    usage = message.usage
    read, written = usage.cache_read_input_tokens or 0, usage.cache_creation_input_tokens or 0
    return f"cache read {read}, cache write {written} tokens"


def streamed_reply(work: Workload) -> str:
    work.script(MessageReply(text="Sorry about the double charge! I have asked billing to refund it today."))
    messages = [{"role": "user", "content": f"Draft a short, kind reply to: {TICKET}"}]
    with work.client.messages.stream(model=MODEL, max_tokens=300, messages=messages) as stream:
        words = sum(len(text.split()) for text in stream.text_stream)
    return f"streamed {words} words"


def tool_loop(work: Workload) -> str:
    work.script(
        MessageReply(tool_uses=(ToolUse("lookup_order", {"order_id": "A-1042"}),), stop_reason="tool_use"),
        MessageReply(text="Order A-1042 is packed and ships tomorrow; the duplicate charge is being refunded."),
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"What is the status of the order? {TICKET}"}]
    message = work.client.messages.create(model=MODEL, max_tokens=300, tools=[LOOKUP_TOOL], messages=messages)
    turns = 1
    while message.stop_reason == "tool_use" and turns < 4:
        results = [
            {"type": "tool_result", "tool_use_id": block.id, "content": '{"status": "packed", "ships": "tomorrow"}'}
            for block in message.content
            if block.type == "tool_use"
        ]
        messages += [{"role": "assistant", "content": message.content}, {"role": "user", "content": results}]
        message = work.client.messages.create(model=MODEL, max_tokens=300, tools=[LOOKUP_TOOL], messages=messages)
        turns += 1
    return f"{turns} turns, stop reason {message.stop_reason}"


def rate_limited(work: Workload) -> str:
    work.script(ErrorReply(429, retry_after=0), MessageReply(text="refund"))
    message = work.ask(f"One word, the action for this ticket: {TICKET}", model=FAST_MODEL, max_tokens=8)
    return f"answered after the SDK's retry: {_text(message)}"


def rejected(work: Workload) -> str:
    work.script(ErrorReply(400, message="max_tokens: must be at least 1"))
    try:
        work.ask("Summarize the ticket.", max_tokens=0)
    except anthropic.BadRequestError as error:
        return f"the app saw {type(error).__name__} ({error.status_code})"
    return "accepted"


def count_tokens(work: Workload) -> str:
    counted = work.client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": TICKET}])
    return f"{counted.input_tokens} input tokens"


def backlog_batch(work: Workload) -> str:
    tickets = {
        "ticket-47931": "Where is my parcel?",
        "ticket-47932": "Please close my account.",
        "ticket-47933": TICKET,
    }
    requests: Any = [
        {
            "custom_id": key,
            "params": {"model": FAST_MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": t}]},
        }
        for key, t in tickets.items()
    ]
    batch = work.client.messages.batches.create(requests=requests)
    batch = work.client.messages.batches.retrieve(batch.id)
    if batch.processing_status != "ended":
        return f"batch {batch.id} is {batch.processing_status}; results later"
    found = {result.custom_id: result.result.type for result in work.client.messages.batches.results(batch.id)}
    return f"{sum(kind == 'succeeded' for kind in found.values())}/{len(tickets)} succeeded"


Step = tuple[str, str, Callable[[Workload], str]]
STEPS: tuple[Step, ...] = (
    ("classify the ticket", "triage", classify),
    ("triage with the policy (cache write)", "triage", cached_policy),
    ("triage with the policy (cache hit)", "triage", cached_policy),
    ("stream a reply draft", "reply-draft", streamed_reply),
    ("look up the order (tool loop)", "order-lookup", tool_loop),
    ("a 429, retried by the SDK", "triage", rate_limited),
    ("a rejected request (400)", "reply-draft", rejected),
    ("count tokens", "reply-draft", count_tokens),
    ("triage the backlog (batch)", "backlog", backlog_batch),
)


def _otlp_readers(endpoint: str, tracer_provider: TracerProvider) -> list[MetricReader]:
    """Add OTLP/HTTP span export to `tracer_provider`; return the metric reader that exports too."""
    try:  # optional: only `--otlp` needs the exporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: PLC0415
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    except ImportError as error:
        raise DemoError(f"exporting to {endpoint} needs the OTLP/HTTP exporter: {OTLP_HINT}") from error
    base = endpoint.rstrip("/")
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    return [PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics"))]


@contextmanager
def _api(live: bool) -> Iterator[tuple[Any, Optional[FakeClaudeAPI]]]:
    if live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise DemoError("--live calls the real Claude API and needs ANTHROPIC_API_KEY; run without --live instead")
        yield anthropic.Anthropic(max_retries=2), None
        return
    with FakeClaudeAPI() as fake:
        yield anthropic.Anthropic(base_url=fake.base_url, api_key=FAKE_KEY, max_retries=2), fake


def run_demo(
    live: bool = False,
    otlp_endpoint: Optional[str] = None,
    on_step: Callable[[str, str], None] = lambda label, outcome: None,
    steps: tuple[Step, ...] = STEPS,
) -> DemoRun:
    """Run `steps` under fresh providers; `on_step(label, outcome)` after each (for progress)."""
    service = os.environ.get("OTEL_SERVICE_NAME") or "ticket-triage-demo"
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    readers: list[MetricReader] = [reader]
    if otlp_endpoint:
        readers += _otlp_readers(otlp_endpoint, tracer_provider)
    meter_provider = MeterProvider(metric_readers=readers, resource=tracer_provider.resource)
    instrumentor = AnthropicInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:  # e.g. run under opentelemetry-instrument
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        with _api(live) as (client, fake):
            work = Workload(client, fake)
            for label, route_name, step in steps:
                with route(route_name):
                    outcome = step(work)
                on_step(label, outcome)
        metrics = reader.get_metrics_data()
    finally:
        instrumentor.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    finished = sorted(spans.get_finished_spans(), key=lambda span: span.start_time or 0)
    return DemoRun(finished, metrics, otlp_endpoint)
