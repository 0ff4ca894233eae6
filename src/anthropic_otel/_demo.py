"""The run of `anthropic-otel demo`: a small ticket-triage service, under the instrumentation.

It exists so that a newcomer sees real telemetry in one command, with no key, no Docker and no
network: it starts the local fake Claude API (`anthropic_otel.testing`), instruments the real SDK
with in-memory exporters (and OTLP when asked), and runs the steps of `_demo_workload`, the calls
a real service makes. `--live` runs the same steps against the real API. What the run recorded is
returned for `cli` to print.

`--for 5m` repeats the steps, and a few more plain calls, in rounds until the time is up (the
round in progress is finished), with the fake API answering after a realistic latency and
metrics exported every few seconds, so that a dashboard watching the service moves while it runs.
A long run keeps counts, not spans.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import anthropic
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics import export as metrics_export
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor, route
from anthropic_otel._demo_report import Tally
from anthropic_otel._demo_workload import STEPS, Step, Workload
from anthropic_otel.testing import FakeClaudeAPI

__all__ = ["OTLP_HINT", "DemoError", "DemoRun", "StepDone", "run_demo"]

FAKE_KEY = "sk-ant-demo-not-a-real-key"
OTLP_HINT = "pip install opentelemetry-exporter-otlp-proto-http"


class DemoError(Exception):
    """A reason the demo cannot run, worded for the user (no traceback needed)."""


@dataclass
class DemoRun:
    """What one run recorded: the first round's spans (in call order), what all its spans add up
    to, and one metrics collection at the end."""

    spans: list[ReadableSpan]
    metrics: Optional[metrics_export.MetricsData]
    otlp_endpoint: Optional[str]
    tally: Tally = field(default_factory=Tally)
    rounds: int = 1


# How long the fake API takes to answer in a `--for` run, in seconds: like the real one, roughly.
LIVE_LATENCY_S = (0.2, 1.2)
LIVE_EXPORT_INTERVAL_MS = 5000


@dataclass(frozen=True)
class StepDone:
    """A step just made: in which round (0 is the first), what it did and what the calls reported."""

    round: int
    label: str
    outcome: str
    findings: list[tuple[str, str]]  # (diagnostic code, message) of each anthropic.diagnostic event
    calls: int  # made so far in the run, this step's included


def _otlp_readers(
    endpoint: str, tracer_provider: TracerProvider, interval_ms: Optional[int]
) -> list[metrics_export.MetricReader]:
    """Add OTLP/HTTP span export to `tracer_provider`; return the metric reader that exports too."""
    try:  # optional: only `--otlp` needs the exporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: PLC0415
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    except ImportError as error:
        raise DemoError(f"exporting to {endpoint} needs the OTLP/HTTP exporter: {OTLP_HINT}") from error
    base = endpoint.rstrip("/")
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics")
    return [metrics_export.PeriodicExportingMetricReader(exporter, export_interval_millis=interval_ms)]


@contextmanager
def _api(live: bool) -> Iterator[tuple[Any, Optional[FakeClaudeAPI]]]:
    if live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise DemoError("--live calls the real Claude API and needs ANTHROPIC_API_KEY; run without --live instead")
        yield anthropic.Anthropic(max_retries=2), None
        return
    with FakeClaudeAPI() as fake:
        yield anthropic.Anthropic(base_url=fake.base_url, api_key=FAKE_KEY, max_retries=2), fake


@contextmanager
def _quiet_diagnostics() -> Iterator[None]:
    """The diagnostics' own log warnings off: the demo shows each finding, explained, from its span."""
    logger = logging.getLogger("anthropic_otel.diagnostics")
    propagate, handlers = logger.propagate, logger.handlers
    logger.propagate, logger.handlers = False, [logging.NullHandler()]
    try:
        yield
    finally:
        logger.propagate, logger.handlers = propagate, handlers


def _findings(spans: Sequence[ReadableSpan]) -> list[tuple[str, str]]:
    return [
        (str(attributes.get("anthropic.diagnostic.code")), str(attributes.get("anthropic.diagnostic.message")))
        for span in spans
        for event in span.events
        if event.name == "anthropic.diagnostic" and (attributes := event.attributes or {})
    ]


def run_demo(
    live: bool = False,
    *,
    otlp_endpoint: Optional[str] = None,
    on_step: Callable[[StepDone], None] = lambda step: None,
    steps: tuple[Step, ...] = STEPS,
    until: Optional[float] = None,
    on_round: Callable[[int, Tally], None] = lambda rounds, tally: None,
) -> DemoRun:
    """Run `steps` under fresh providers; with `until` (a `time.monotonic()` deadline), in rounds
    until then, or until Ctrl-C, which ends the run with what it made so far.

    `on_step` follows each step, `on_round` each round. In a run
    with `until`, the fake API answers after a realistic latency, metrics are exported every few
    seconds, and spans after the first round are counted, not kept.
    """
    service = os.environ.get("OTEL_SERVICE_NAME") or "ticket-triage-demo"
    spans, reader = InMemorySpanExporter(), metrics_export.InMemoryMetricReader()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    readers: list[metrics_export.MetricReader] = [reader]
    if otlp_endpoint:
        interval = LIVE_EXPORT_INTERVAL_MS if until and "OTEL_METRIC_EXPORT_INTERVAL" not in os.environ else None
        readers += _otlp_readers(otlp_endpoint, tracer_provider, interval)
    meter_provider = MeterProvider(metric_readers=readers, resource=tracer_provider.resource)
    instrumentor = AnthropicInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:  # e.g. run under opentelemetry-instrument
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    run = DemoRun([], None, otlp_endpoint, Tally(), 0)

    def end_round(complete: bool = True) -> None:
        finished = sorted(spans.get_finished_spans(), key=lambda span: span.start_time or 0)
        spans.clear()
        run.tally.add(finished)
        run.spans = run.spans or finished
        run.rounds += complete

    latency = (lambda: random.uniform(*LIVE_LATENCY_S)) if until and not live else None
    try:
        with _quiet_diagnostics(), _api(live) as (client, fake):
            work = Workload(client, fake, latency)
            try:
                while run.rounds == 0 or (until is not None and time.monotonic() < until):
                    for label, route_name, step in steps:
                        before = len(spans.get_finished_spans())
                        with route(route_name):
                            outcome = step(work)
                        finished = spans.get_finished_spans()
                        calls = run.tally.calls + len(finished)
                        on_step(StepDone(run.rounds, label, outcome, _findings(finished[before:]), calls))
                    end_round()
                    if fake is not None:
                        fake.reset()  # its record of requests would grow with the run
                    on_round(run.rounds, run.tally)
            except KeyboardInterrupt:
                if until is None:
                    raise
                end_round(complete=False)  # the calls of the round cut short count too
        run.metrics = reader.get_metrics_data()
    finally:
        instrumentor.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    return run
