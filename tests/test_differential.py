"""Differential testing: every scenario of the catalogue, run bare and instrumented, looks the same to the app.

Same return values (model dumps, ids and timestamps normalised), same exception types and
messages, same number of HTTP requests; and, instrumented, one ended span per API call, with
status ERROR exactly when the application saw an error (UNSET for streams it closed early).
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import SCOPE, ClientFactory
from tests.scenarios import Scenario, catalogue, run_scenario

CATALOGUE = catalogue()


def test_the_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 40
    assert len({scenario.name for scenario in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("scenario", CATALOGUE, ids=[scenario.name for scenario in CATALOGUE])
def test_instrumentation_changes_nothing_the_app_sees(
    scenario: Scenario,
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
) -> None:
    bare, bare_requests = run_scenario(scenario, api, make_client)
    # Bare, only the SDK's own tracing (1.14+) makes spans: one per call.
    assert len(span_exporter.get_finished_spans()) == (scenario.calls if sdk_tracing else 0)
    span_exporter.clear()

    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider
    )
    try:
        instrumented, instrumented_requests = run_scenario(scenario, api, make_client)
    finally:
        instrumentor.uninstrument()

    assert instrumented == bare
    assert instrumented_requests == bare_requests

    spans = sorted(span_exporter.get_finished_spans(), key=lambda span: span.start_time or 0)
    assert len(spans) == scenario.calls, [span.name for span in spans]
    assert all(span.end_time is not None for span in spans)
    statuses = [span.status.status_code for span in spans]
    failed = bare[0] == "raised"
    if failed:
        assert statuses[-1] is StatusCode.ERROR, (bare, statuses)
        assert StatusCode.ERROR not in statuses[:-1]
    elif scenario.truncated:
        assert statuses == [StatusCode.ERROR]
    else:
        assert StatusCode.ERROR not in statuses, (bare, [dict(span.attributes or {}) for span in spans])
    if scenario.early:
        assert statuses[-1] is StatusCode.UNSET


def test_uninstrumented_again_makes_no_spans(
    sdk_tracing: bool,
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
) -> None:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    instrumentor.uninstrument()
    (scenario,) = [scenario for scenario in CATALOGUE if scenario.name == "create"]
    outcome: Any = run_scenario(scenario, api, make_client)
    assert outcome[0][0] == "returned"
    spans = span_exporter.get_finished_spans()
    assert [span.instrumentation_scope.name for span in spans] == ([SCOPE[True]] if sdk_tracing else [])
    assert all("anthropic.ratelimit.requests.limit" not in span.attributes for span in spans)
