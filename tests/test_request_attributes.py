"""Sampling settings, stop sequences and the end user's id, as semconv names them, on both span paths.

The SDK's own span (1.14+) records none of `gen_ai.request.temperature` / `top_p` / `top_k`: both
paths get them from the body as it goes on the wire, `extra_body` included. Stop sequences are the
application's text: recorded only with content capture on (on the SDK's span, by the SDK itself).
`metadata.user_id` becomes `user.id` on spans and call records, never on metrics, unless
`ANTHROPIC_OTEL_USER_ID=false`.
"""

from __future__ import annotations

import inspect
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel._read.request_extras import request_extras
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import ClientFactory, InMemoryLogExporter, all_points, call_records, user_message

MODEL = "claude-sonnet-4-6"
USER = "3f1c0b9e-user-hash"
SAMPLING = {"temperature": 0.2, "top_p": 0.9, "top_k": 40}
# SDK 1.0 dropped the sampling parameters from `messages.create`: sent through `extra_body` there.
TAKES_SAMPLING = "temperature" in inspect.signature(anthropic.resources.Messages.create).parameters


def metric_attribute_keys(reader: InMemoryMetricReader) -> set[str]:
    return {key for _, attributes in all_points(reader) for key in attributes}


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_sampling_settings_stop_sequences_and_user_id(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    log_exporter: InMemoryLogExporter,
    stream: bool,
) -> None:
    ask: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 32,
        "messages": user_message(),
        "stop_sequences": ["END", "\n\nHuman:"],
        "metadata": {"user_id": USER},
        **(SAMPLING if TAKES_SAMPLING else {"extra_body": SAMPLING}),
    }
    result = make_client().messages.create(**ask, stream=stream)
    if stream:
        list(result)

    (span,) = span_exporter.get_finished_spans()
    assert {key: span.attributes[key] for key in span.attributes if key.startswith("gen_ai.request.")} == {
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 32,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        **({"gen_ai.request.stream": True} if stream else {}),
    }
    assert span.attributes["user.id"] == USER
    (record,) = call_records(log_exporter)
    assert record.attributes["user.id"] == USER
    assert "user.id" not in metric_attribute_keys(metric_reader)
    assert not any(key.startswith("gen_ai.request.t") for key in metric_attribute_keys(metric_reader))


CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def redact(content: dict[str, Any]) -> dict[str, Any]:
    """A redaction hook, named by the set-up below: it never sees stop sequences."""
    return content


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    ("instrumented", "on_our_span"),
    [
        ({"env": {CAPTURE: "SPAN_ONLY"}}, True),
        ({"env": {CAPTURE: "EVENT_ONLY"}}, False),  # content goes on events only
        ({"env": {CAPTURE: "SPAN_ONLY", "ANTHROPIC_OTEL_CONTENT_HOOK": f"{__name__}:redact"}}, False),
    ],
    ids=["span", "event-only", "with-a-hook"],
    indirect=["instrumented"],
)
def test_stop_sequences_are_content(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    sdk_tracing: bool,
    on_our_span: bool,
) -> None:
    """Recorded on our span only when content goes on spans and no redaction hook is named (it would
    never see them); the SDK's span is left to the SDK, which records them (bounded its way) only when
    its own content capture is on: here it is off."""
    make_client().messages.create(
        model=MODEL, max_tokens=8, messages=user_message(), stop_sequences=["END", "\n\nHuman:"]
    )
    (span,) = span_exporter.get_finished_spans()
    stops = ("END", "\n\nHuman:") if on_our_span and not sdk_tracing else None
    assert span.attributes.get("gen_ai.request.stop_sequences") == stops


@pytest.mark.usefixtures("instrumented")
def test_extra_body_is_what_goes_on_the_wire(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    make_client().messages.create(
        model=MODEL,
        max_tokens=8,
        messages=user_message(),
        **({"temperature": 1.0} if TAKES_SAMPLING else {}),
        extra_body={"temperature": 0.5, "top_k": 3, "metadata": {"user_id": "from-extra-body"}},
    )
    assert api.requests[-1].json["temperature"] == 0.5
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["gen_ai.request.temperature"] == 0.5
    assert span.attributes["gen_ai.request.top_k"] == 3
    assert span.attributes["user.id"] == "from-extra-body"


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("instrumented", [{"env": {"ANTHROPIC_OTEL_USER_ID": "false"}}], indirect=True)
def test_user_id_can_be_turned_off(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    log_exporter: InMemoryLogExporter,
) -> None:
    make_client().messages.create(model=MODEL, max_tokens=8, messages=user_message(), metadata={"user_id": USER})
    (span,) = span_exporter.get_finished_spans()
    assert "user.id" not in span.attributes
    assert "user.id" not in call_records(log_exporter)[0].attributes
    assert span.attributes["gen_ai.request.model"] == MODEL


def test_odd_values_are_left_out() -> None:
    assert request_extras({"temperature": True, "top_p": "0.9", "top_k": 2.5, "stop_sequences": ["a", 1]}) == {}
    assert request_extras({"metadata": {"user_id": ""}, "stop_sequences": []}, stop_sequences=True) == {}
    assert request_extras({"stop_sequences": ["END"]}) == {}  # content capture off
    assert request_extras({"stop_sequences": ["END"]}, stop_sequences=True) == {
        "gen_ai.request.stop_sequences": ["END"]
    }
    assert request_extras({"temperature": 1, "metadata": {"user_id": USER}}, user_id=False) == {
        "gen_ai.request.temperature": 1.0
    }
    bounded = request_extras(
        {"stop_sequences": ["x" * 1000] * 100, "metadata": {"user_id": "u" * 1000}}, stop_sequences=True
    )
    assert bounded["gen_ai.request.stop_sequences"] == ["x" * 256] * 16
    assert bounded["user.id"] == "u" * 256
