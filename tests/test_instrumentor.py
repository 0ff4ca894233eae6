"""instrument / uninstrument: restores everything, idempotent, disable-able, never breaks the app."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import textwrap
from typing import Any

import anthropic
import anthropic._base_client as base_client
import pytest
import wrapt
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel import _patches as hooks
from anthropic_otel._instrumentor import WRAPPER_TYPE
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, metric_points, user_message

MODEL = "claude-opus-4-8"


def originals() -> dict[str, object]:
    """Every patch target that this SDK version has, as its owner holds it (optional ones may be missing)."""
    found = {}
    for target in hooks.WRAP_TARGETS:
        owner, _, name = target.attribute.rpartition(".")
        try:
            module = importlib.import_module(target.module)
        except ImportError:
            assert target.optional, target
            continue
        holder = getattr(module, owner, None) if owner else module
        if holder is not None and hasattr(holder, name):
            found[f"{target.module}:{target.attribute}"] = vars(holder)[name] if owner else getattr(holder, name)
        else:
            assert target.optional, target
    return found


def test_uninstrument_restores_every_original_and_records_nothing(
    api: FakeClaudeAPI, make_client: ClientFactory
) -> None:
    before = originals()
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=MeterProvider(metric_readers=[reader]))
    patched = originals()
    assert all(isinstance(patched[name], WRAPPER_TYPE) for name in patched)
    instrumentor.uninstrument()

    assert originals() == before
    make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    assert exporter.get_finished_spans() == ()
    assert metric_points(reader, "gen_ai.client.operation.duration") == []


def test_instrumenting_twice_is_harmless(
    make_client: ClientFactory, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> None:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    finally:
        instrumentor.uninstrument()
    assert len(span_exporter.get_finished_spans()) == 1
    assert not isinstance(vars(base_client.SyncAPIClient)["request"], WRAPPER_TYPE)


def test_a_peer_instrumentation_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture, tracer_provider: TracerProvider
) -> None:
    def peer_wrapper(wrapped, instance, args, kwargs):  # type: ignore[no-untyped-def]
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper("anthropic.resources.messages", "Messages.create", peer_wrapper)
    instrumentor = AnthropicInstrumentor()
    try:
        with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
            instrumentor.instrument(tracer_provider=tracer_provider)
    finally:
        instrumentor.uninstrument()
        from opentelemetry.instrumentation.utils import unwrap

        unwrap(anthropic.resources.messages.Messages, "create")
    (warning,) = [record for record in caplog.records if "already wrapped" in record.message]
    assert f"already wrapped by {peer_wrapper.__module__};" in warning.message


def test_no_warning_without_peers(caplog: pytest.LogCaptureFixture, tracer_provider: TracerProvider) -> None:
    instrumentor = AnthropicInstrumentor()
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        instrumentor.instrument(tracer_provider=tracer_provider)
    instrumentor.uninstrument()
    assert [record.message for record in caplog.records if record.name.startswith("anthropic_otel")] == []


def test_instrumenting_again_with_the_same_meter_provider_records_every_metric(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    metric_reader: InMemoryMetricReader,
) -> None:
    """The meter hands back the instruments it made the first time: the second `instrument()` must use them."""
    usage = {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 50}
    for _ in range(2):
        instrumentor = AnthropicInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        try:
            api.queue(MessageReply(text="x", usage=usage))
            make_client().messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=user_message())
        finally:
            instrumentor.uninstrument()

    cache = {
        p.attributes["anthropic.cache.operation"]: p.value
        for p in metric_points(metric_reader, "anthropic.client.cache.tokens")
    }
    assert cache == {"read": 100}
    cost = sum(point.value for point in metric_points(metric_reader, "anthropic.client.cost"))
    # claude-sonnet-4-6: 100 input at $3, 50 cache reads at $0.30, 10 output at $15 per million, twice
    assert cost == pytest.approx(2 * (100 * 3 + 50 * 0.3 + 10 * 15) / 1e6)
    savings = sum(point.value for point in metric_points(metric_reader, "anthropic.client.cache.savings"))
    assert savings == pytest.approx(2 * 50 * (3 - 0.3) / 1e6)
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 2


@pytest.mark.sdk_tracing_only
def test_the_tracer_provider_given_to_instrument_gets_the_span(
    api: FakeClaudeAPI, meter_provider: MeterProvider, span_exporter: InMemorySpanExporter
) -> None:
    """A client whose SDK tracing records into another provider: ours goes to the one `instrument()` was
    given, the SDK's stays where it was, untouched; never two spans in one provider."""
    elsewhere = InMemorySpanExporter()
    sdk_provider = TracerProvider()
    sdk_provider.add_span_processor(SimpleSpanProcessor(elsewhere))
    ours = TracerProvider()
    ours.add_span_processor(SimpleSpanProcessor(span_exporter))
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=ours, meter_provider=meter_provider)
    try:
        client = anthropic.Anthropic(
            api_key="sk-test", base_url=api.base_url, max_retries=0, open_telemetry={"tracer_provider": sdk_provider}
        )
        message = client.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=user_message())
        client.close()
    finally:
        instrumentor.uninstrument()
    (span,) = span_exporter.get_finished_spans()
    assert span.instrumentation_scope.name == "anthropic_otel"
    assert span.attributes["anthropic.request.id"] == message._request_id
    assert span.attributes["anthropic.ratelimit.requests.limit"] > 0
    (sdk_span,) = elsewhere.get_finished_spans()
    assert sdk_span.instrumentation_scope.name == "com.anthropic.sdk.python"
    assert "anthropic.ratelimit.requests.limit" not in sdk_span.attributes  # the SDK's own, as bare
    assert sdk_span.context.trace_id != span.context.trace_id  # ours is not current: the SDK's is no child of it


@pytest.mark.sdk_tracing_only
def test_an_explicit_tracer_provider_wins_over_a_global_one(tmp_path: Any) -> None:
    """With a global provider set (the SDK traces into it), `instrument(tracer_provider=X)` puts the span in X."""
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            import anthropic
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
            from anthropic_otel import AnthropicInstrumentor
            from anthropic_otel.testing import FakeClaudeAPI

            global_spans, our_spans = InMemorySpanExporter(), InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(global_spans))
            trace.set_tracer_provider(provider)
            explicit = TracerProvider()
            explicit.add_span_processor(SimpleSpanProcessor(our_spans))
            AnthropicInstrumentor().instrument(tracer_provider=explicit)
            with FakeClaudeAPI() as api:
                client = anthropic.Anthropic(api_key="sk-test", base_url=api.base_url)
                hello = [{"role": "user", "content": "hi"}]
                client.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=hello)
            print([s.instrumentation_scope.name for s in our_spans.get_finished_spans()])
            print([s.instrumentation_scope.name for s in global_spans.get_finished_spans()])
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=600)
    assert done.stdout.splitlines() == ["['anthropic_otel']", "['com.anthropic.sdk.python']"]
