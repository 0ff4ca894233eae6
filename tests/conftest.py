"""Shared fixtures: in-memory exporters, the instrumented SDK, and the local fake Claude API.

Every test drives the real `anthropic` SDK over real HTTP against `anthropic_otel.testing`.

On SDK 1.14+ the SDK's own tracing is on by default for users (a tracer provider exists), so it
is the tests' default too: every test that makes a client with `make_client` runs on both span
paths, the SDK's own span enriched (`sdk_tracing=True`: the client is given the test's tracer
provider) and ours (`sdk_tracing=False`: no provider for the SDK, so it makes none), with the
same assertions. Older SDKs have only ours.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
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
from anthropic_otel._diagnostics import EVENT_NAME
from anthropic_otel._sdk import sdk_has_tracing
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
# `sdk_tracing` values: the SDK's own span (1.14+, the default users get), then ours.
SDK_PATHS = [True, False] if SDK_TRACES else [False]
# The instrumentation scope of the span that records a call, by `sdk_tracing`.
SCOPE = {True: "com.anthropic.sdk.python", False: "anthropic_otel"}


# Test modules of SDK surfaces the installed version does not have: not collected (rather than skipped).
SESSION_TESTS = ["test_agents.py", "test_session_usage.py"]
collect_ignore = [
    *(["test_completions.py"] if SDK_VERSION >= (1, 0) else []),
    *([] if importlib.util.find_spec("anthropic.resources.beta.sessions") else SESSION_TESTS),
    *([] if hasattr(anthropic, "beta_tool") else ["test_tool_runner.py", "test_agent_metrics.py"]),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sdk_tracing_only: the behaviour exists only where the SDK traces (1.14+)")
    config.addinivalue_line("markers", "only_if(condition, reason): the behaviour exists only where `condition` holds")


def _applies(item: pytest.Item) -> bool:
    if item.get_closest_marker("sdk_tracing_only") is not None and not SDK_TRACES:
        return False
    return all(marker.args[0] for marker in item.iter_markers("only_if"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) the tests of behaviour this SDK version does not have."""
    kept = [item for item in items if _applies(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(params=SDK_PATHS, ids=lambda sdk: "sdk-span" if sdk else "own-span")
def sdk_tracing(request: pytest.FixtureRequest) -> bool:
    """Which span records the calls of a test: the SDK's own (1.14+) or ours."""
    return bool(request.param)


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


@pytest.fixture
def instrumented(
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[AnthropicInstrumentor]:
    """Instrumented after the set-up a test gives as an indirect parameter: `{"env": {name: value},
    "prices": ...}` (both optional), since `instrument()` reads the environment and takes the prices."""
    setup: dict[str, Any] = getattr(request, "param", None) or {}
    for name, value in setup.get("env", {}).items():
        monkeypatch.setenv(name, value)
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        prices=setup.get("prices"),
    )
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(api: FakeClaudeAPI, tracer_provider: TracerProvider, sdk_tracing: bool) -> ClientFactory:
    """`make_client(async_=False, sdk_tracing=<the test's span path>, **options)`: a client of the fake API.

    `sdk_tracing=True` (SDK 1.14+ only) has the SDK make its own spans, into the same exporter.
    """
    default = sdk_tracing

    def make(async_: bool = False, sdk_tracing: bool = default, **options: Any) -> Any:
        options.setdefault("max_retries", 0)
        options.setdefault("base_url", api.base_url)
        if sdk_tracing:
            options.setdefault("open_telemetry", {"tracer_provider": tracer_provider})
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


def all_points(reader: InMemoryMetricReader) -> Iterator[tuple[str, dict[str, Any]]]:
    """(metric name, attributes) of every data point of every metric we record, from one collection."""
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data is not None else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    yield metric.name, dict(point.attributes or {})


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
