"""Shared fixtures: in-memory exporters, the instrumented SDK, and the local fake Claude API.

Every test drives the real `anthropic` SDK over real HTTP against `anthropic_otel.testing`.
The SDK's own tracing (1.14+) is used only where a test asks for it (`sdk_tracing=True`), by
giving the client its own tracer provider; otherwise no global provider exists and our span is
the one made, so the same assertions run on every SDK version.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import anthropic
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.diagnostics import EVENT_NAME
from anthropic_otel.sdk import sdk_has_tracing
from anthropic_otel.testing import FakeClaudeAPI

# The HTTP library of the installed SDK, for tests that hand it a transport or headers: httpx2
# from 1.0, httpx before (both may be installed: other packages, such as openai, bring httpx2 along).
sdk_httpx: Any = importlib.import_module("httpx2" if hasattr(anthropic._base_client, "httpx2") else "httpx")

try:  # renamed in opentelemetry-sdk 1.39; the old name warns there
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter as InMemoryLogExporter
except ImportError:  # pragma: no cover - older opentelemetry-sdk
    from opentelemetry.sdk._logs.export import InMemoryLogExporter  # type: ignore[no-redef]

API_KEY = "sk-ant-api03-test-SECRET-do-not-leak-0123456789"
SDK_TRACES = sdk_has_tracing()
SDK_VERSION = tuple(int(part) for part in anthropic.__version__.split(".")[:2])
# `sdk_tracing` values for tests that run on both span paths: ours, and the SDK's own (1.14+).
SDK_PATHS = [False, pytest.param(True, marks=pytest.mark.skipif(not SDK_TRACES, reason="SDK < 1.14"))]


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeClaudeAPI]:
    with FakeClaudeAPI() as api:
        yield api


@pytest.fixture
def api(fake_api: FakeClaudeAPI) -> FakeClaudeAPI:
    """The fake API, with an empty queue and no recorded requests."""
    fake_api.reset()
    return fake_api


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[metric_reader])


@pytest.fixture
def log_exporter() -> InMemoryLogExporter:
    return InMemoryLogExporter()


@pytest.fixture
def logger_provider(log_exporter: InMemoryLogExporter) -> LoggerProvider:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    return provider


@pytest.fixture
def instrument(
    tracer_provider: TracerProvider, meter_provider: MeterProvider, logger_provider: LoggerProvider
) -> Iterator[AnthropicInstrumentor]:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider
    )
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(api: FakeClaudeAPI, tracer_provider: TracerProvider) -> ClientFactory:
    """`make_client(async_=False, sdk_tracing=False, **options)`: a client of the fake API.

    `sdk_tracing=True` (SDK 1.14+ only) has the SDK make its own spans, into the same exporter.
    """

    def make(async_: bool = False, sdk_tracing: bool = False, **options: Any) -> Any:
        options.setdefault("max_retries", 0)
        options.setdefault("base_url", api.base_url)
        if sdk_tracing:
            options["open_telemetry"] = {"tracer_provider": tracer_provider}
        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        return cls(api_key=API_KEY, **options)

    return make


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """All data points of metric `name` (histogram or sum) from one collection."""
    data = reader.get_metrics_data()
    points: list[Any] = []
    if data is None:
        return points
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    points.extend(metric.data.data_points)
    return points


def call_records(exporter: InMemoryLogExporter) -> list[Any]:
    """The `anthropic.call` log records exported so far (SDK log records)."""
    records = [getattr(data, "log_record", data) for data in exporter.get_finished_logs()]
    return [record for record in records if getattr(record, "event_name", None) == "anthropic.call"]


def user_message(text: str = "Hello, Claude") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def diagnostic_events(exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    """The attributes of every `anthropic.diagnostic` span event, in span order."""
    return [
        dict(event.attributes or {})
        for span in exporter.get_finished_spans()
        for event in span.events
        if event.name == EVENT_NAME
    ]


class Diagnostics:
    """What the calls of one test reported: span events, the diagnostics counter, logged warnings."""

    def __init__(
        self, exporter: InMemorySpanExporter, reader: InMemoryMetricReader, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.exporter = exporter
        self.reader = reader
        self.caplog = caplog

    def warnings_caught(self) -> Any:
        """A context in which the diagnostics' warnings are captured for `warnings()`."""
        return self.caplog.at_level(logging.WARNING, logger="anthropic_otel.diagnostics")

    def events(self) -> list[dict[str, Any]]:
        return diagnostic_events(self.exporter)

    def codes(self) -> list[str]:
        return [event["anthropic.diagnostic.code"] for event in self.events()]

    def counts(self) -> dict[str, int]:
        """The `anthropic.client.diagnostics` counter's value per code."""
        return {
            point.attributes["anthropic.diagnostic.code"]: point.value
            for point in metric_points(self.reader, "anthropic.client.diagnostics")
        }

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if r.name == "anthropic_otel.diagnostics"]

    def assert_none(self, spans: int) -> None:
        """`spans` calls were made and none of them reported anything."""
        assert len(self.exporter.get_finished_spans()) == spans
        assert self.events() == []
        assert self.counts() == {}


@pytest.fixture
def diagnostics(
    span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader, caplog: pytest.LogCaptureFixture
) -> Diagnostics:
    return Diagnostics(span_exporter, metric_reader, caplog)


@contextlib.contextmanager
def instrumenting(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> Iterator[AnthropicInstrumentor]:
    """Instrumented until the block ends; `instrument()` reads the environment as it is then."""
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


class OTLPReceiver:
    """A local OTLP/HTTP (protobuf) endpoint that keeps what it receives, for tests of exported telemetry.

    `spans` holds `(scope name, span)` pairs and `metric_names` every metric name received, so a
    test can tell the SDK's own span (scope `com.anthropic.sdk.python`) from ours.
    """

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[tuple[str, Any]] = []
        self.metric_names: set[str] = set()
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.bodies.append(body)
                if self.path == "/v1/traces":
                    traces = ExportTraceServiceRequest.FromString(body)
                    for resource_spans in traces.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            receiver.spans.extend((scope_spans.scope.name, span) for span in scope_spans.spans)
                elif self.path == "/v1/metrics":
                    metrics = ExportMetricsServiceRequest.FromString(body)
                    for resource_metrics in metrics.resource_metrics:
                        for scope_metrics in resource_metrics.scope_metrics:
                            receiver.metric_names.update(metric.name for metric in scope_metrics.metrics)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def otlp_receiver() -> Iterator[OTLPReceiver]:
    receiver = OTLPReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
