"""Secret scan: across the whole scenario catalogue, the API key, credential headers and a configured
secret header never appear in spans, metrics, log records or our own Python logs (at DEBUG), with
content capture off and with it on (spans and events).
"""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import SDK_TRACES, InMemoryLogExporter
from tests.scenarios import catalogue, run_scenario

SECRET_KEY = "sk-ant-api03-SECRET-k3y-Zq9Xw7Vu5Ts3Rq1Po-AAAA"
SECRET_HEADER = "hdr-SECRET-value-4f8e2d1c9b7a"
FORBIDDEN = (SECRET_KEY, SECRET_HEADER, "secret", "authorization", "x-api-key", "bearer", "k3y-Zq9Xw7")
CATALOGUE = catalogue()
MODES = ["our-span"] + (["with-sdk-tracing"] if SDK_TRACES else [])


def span_texts(exporter: InMemorySpanExporter) -> list[str]:
    texts = []
    for span in exporter.get_finished_spans():
        texts += [span.name, repr(dict(span.attributes or {})), repr(span.status.description)]
        texts += [repr((event.name, dict(event.attributes or {}))) for event in span.events]
        texts += [repr(dict(link.attributes or {})) for link in span.links]
    return texts


def metric_texts(reader: InMemoryMetricReader) -> list[str]:
    texts = []
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                texts += [metric.name, metric.description or "", metric.unit or ""]
                texts += [repr(dict(point.attributes or {})) for point in metric.data.data_points]
    return texts


def log_texts(exporter: InMemoryLogExporter) -> list[str]:
    texts = []
    for data in exporter.get_finished_logs():
        record = getattr(data, "log_record", data)
        texts += [repr(record.body), repr(dict(record.attributes or {})), repr(getattr(record, "event_name", None))]
    return texts


def python_log_texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        if record.name.startswith("anthropic_otel"):
            texts += [record.getMessage(), repr(record.args), repr(record.exc_info), repr(vars(record))]
    return texts


@pytest.mark.parametrize("capture", ["no_content", "span_and_event"])
@pytest.mark.parametrize("mode", MODES)
def test_no_secret_anywhere_across_the_catalogue(
    mode: str,
    capture: str,
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: InMemoryLogExporter,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_LOG_CALLS", "true")  # our JSON call lines too
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", capture)
    caplog.set_level(logging.DEBUG, logger="anthropic_otel")

    def make_client(async_: bool = False, **options: Any) -> Any:
        options.setdefault("max_retries", 0)
        if mode == "with-sdk-tracing":
            options["open_telemetry"] = {"tracer_provider": tracer_provider}
        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        return cls(
            api_key=SECRET_KEY, base_url=api.base_url, default_headers={"x-custom-secret": SECRET_HEADER}, **options
        )

    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider
    )
    try:
        for scenario in CATALOGUE:
            run_scenario(scenario, api, make_client)
            sent = api.requests[-1].headers
            # the secrets really went over the wire (SDK 2.x sends the key as a bearer token)
            assert SECRET_KEY in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
            assert sent["x-custom-secret"] == SECRET_HEADER
    finally:
        instrumentor.uninstrument()

    spans, metrics, logs = span_texts(span_exporter), metric_texts(metric_reader), log_texts(log_exporter)
    ours = python_log_texts(caplog.records)
    assert len(spans) > len(CATALOGUE)  # the scan is not vacuous
    assert metrics
    assert logs
    assert any('"event":"anthropic.call"' in text for text in ours)
    captured = any("Hello, Claude" in text for text in spans + logs)
    assert captured is (capture != "no_content")  # the scan saw content when it was on
    for where, texts in {"spans": spans, "metrics": metrics, "logs": logs, "python logs": ours}.items():
        text = "\n".join(texts).lower()
        for secret in FORBIDDEN:
            assert secret.lower() not in text, f"{secret!r} found in {where}"
