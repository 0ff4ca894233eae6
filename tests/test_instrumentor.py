"""instrument / uninstrument: restores everything, idempotent, disable-able, never breaks the app."""

from __future__ import annotations

import importlib
import logging

import anthropic
import anthropic._base_client as base_client
import pytest
import wrapt
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor, hooks
from anthropic_otel.instrumentor import WRAPPER_TYPE
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


@pytest.mark.usefixtures("instrument")
def test_a_failure_inside_the_instrumentation_never_reaches_the_app(
    api: FakeClaudeAPI, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr("anthropic_otel.outcomes.response_attributes", broken)
    monkeypatch.setattr("anthropic_otel.calls.request_attributes", broken)
    api.queue(MessageReply(text="still fine"))
    with caplog.at_level(logging.DEBUG, logger="anthropic_otel"):
        message = make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message())
    assert isinstance(message, anthropic.types.Message)
    assert message.content[0].text == "still fine"
    assert any("could not begin recording" in record.message for record in caplog.records)
    assert all(record.levelno == logging.DEBUG for record in caplog.records if record.name.startswith("anthropic_otel"))


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
