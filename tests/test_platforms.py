"""Platform clients (Bedrock, Bedrock Mantle, Vertex, Foundry): one span per call, with their provider name.

They all go through the first-party resource classes, except the Bedrock and Vertex beta
messages, which copy the functions at import; hooking the SDK's `request()` covers both.
Every client is pointed at the fake API, whose Bedrock and Vertex routes answer like the real ones.
"""

from __future__ import annotations

from typing import Any, Callable

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import API_KEY, InMemoryLogExporter, call_records, metric_points, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"
Factory = Callable[..., Any]


def bedrock(base_url: str, async_: bool = False, **options: Any) -> Any:
    cls = anthropic.AsyncAnthropicBedrock if async_ else anthropic.AnthropicBedrock
    return cls(
        aws_access_key="AKIAFAKEFAKEFAKE0000",
        aws_secret_key="fake-secret-0123456789",
        aws_region="us-east-1",
        base_url=base_url,
        max_retries=0,
        **options,
    )


def vertex(base_url: str, async_: bool = False, **options: Any) -> Any:
    cls = anthropic.AsyncAnthropicVertex if async_ else anthropic.AnthropicVertex
    options.setdefault("region", "us-east5")
    return cls(
        project_id="fake-project",
        access_token="fake-token",
        base_url=base_url,
        max_retries=0,
        **options,
    )


def foundry(base_url: str, async_: bool = False, **options: Any) -> Any:
    cls = anthropic.AsyncAnthropicFoundry if async_ else anthropic.AnthropicFoundry
    return cls(api_key=API_KEY, base_url=base_url, max_retries=0, **options)


def bedrock_mantle(base_url: str, async_: bool = False, **options: Any) -> Any:
    cls = anthropic.AsyncAnthropicBedrockMantle if async_ else anthropic.AnthropicBedrockMantle
    return cls(api_key=API_KEY, aws_region="us-east-1", base_url=base_url, max_retries=0, **options)


# (client factory, gen_ai.provider.name as the SDK 2.13 declares it); Foundry and Mantle exist in newer SDKs only.
PLATFORMS: list[tuple[Factory, str]] = [(bedrock, "aws.bedrock"), (vertex, "gcp.vertex_ai")]
if hasattr(anthropic, "AnthropicFoundry"):
    PLATFORMS.append((foundry, "anthropic"))
if hasattr(anthropic, "AnthropicBedrockMantle"):
    PLATFORMS.append((bedrock_mantle, "aws.bedrock"))
IDS = [factory.__name__ for factory, _ in PLATFORMS]


@pytest.mark.parametrize(("factory", "provider"), PLATFORMS, ids=IDS)
@pytest.mark.parametrize("surface", ["messages", "beta.messages"])
def test_platform_client_call_has_one_span_with_its_provider(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    factory: Factory,
    provider: str,
    surface: str,
) -> None:
    client = factory(api.base_url)
    messages = client.beta.messages if surface == "beta.messages" else client.messages
    api.queue(MessageReply(text="from the cloud", usage={"input_tokens": 14, "output_tokens": 3}))
    message = messages.create(model=MODEL, max_tokens=16, messages=user_message())

    assert message.content[0].text == "from the cloud"
    spans = span_exporter.get_finished_spans()
    assert [span.name for span in spans] == ["anthropic.messages.create"]
    span = spans[0]
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.OK
    assert span.attributes["gen_ai.provider.name"] == provider
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.attributes["gen_ai.request.model"] == MODEL
    assert span.attributes["gen_ai.usage.input_tokens"] == 14
    assert span.attributes["anthropic.request.id"] == message._request_id
    (point,) = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert point.count == 1
    assert point.attributes["gen_ai.provider.name"] == provider


@pytest.mark.parametrize(("factory", "provider"), PLATFORMS, ids=IDS)
async def test_async_platform_client(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, factory: Factory, provider: str
) -> None:
    client = factory(api.base_url, async_=True)
    await client.beta.messages.create(model=MODEL, max_tokens=16, messages=user_message())
    (span,) = span_exporter.get_finished_spans()
    assert (span.name, span.attributes["gen_ai.provider.name"]) == ("anthropic.messages.create", provider)


def test_response_without_request_id_has_no_request_id_attribute(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    log_exporter: InMemoryLogExporter,
    sdk_tracing: bool,
) -> None:
    options = {"open_telemetry": {"tracer_provider": tracer_provider}} if sdk_tracing else {}
    client = bedrock(api.base_url, **options)
    api.queue(MessageReply(text="no id", headers={"request-id": None, "x-amzn-requestid": "5b0a6c1e-aws"}))
    message = client.messages.create(model=MODEL, max_tokens=16, messages=user_message())

    assert message._request_id is None
    assert "request-id" not in api.last_headers
    (span,) = span_exporter.get_finished_spans()
    assert span.instrumentation_scope.name.startswith("com.anthropic.sdk.python" if sdk_tracing else "anthropic_otel")
    assert "anthropic.request.id" not in span.attributes
    assert span.attributes["gen_ai.provider.name"] == "aws.bedrock"
    (record,) = call_records(log_exporter)
    assert "anthropic.request.id" not in dict(record.attributes)


@pytest.mark.sdk_tracing_only
@pytest.mark.parametrize(("factory", "provider"), PLATFORMS, ids=IDS)
def test_with_the_sdks_tracing_one_span_each(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    factory: Factory,
    provider: str,
) -> None:
    def run(**options: Any) -> dict[str, Any]:
        span_exporter.clear()
        factory(api.base_url, **options).beta.messages.create(model=MODEL, max_tokens=16, messages=user_message())
        (span,) = span_exporter.get_finished_spans()
        return {"scope": span.instrumentation_scope.name, **span.attributes}

    sdks, ours = run(open_telemetry={"tracer_provider": tracer_provider}), run()
    assert sdks["scope"].startswith("com.anthropic.sdk.python")  # `.bedrock`, `.vertex`, ... per platform
    assert (sdks["gen_ai.provider.name"], sdks["server.address"]) == (provider, "127.0.0.1")
    variable = {"scope", "anthropic.request.id", "gen_ai.response.id"} | {key for key in sdks if "ratelimit" in key}
    assert sorted(sdks) == sorted(ours)
    assert {k: v for k, v in sdks.items() if k not in variable} == {k: v for k, v in ours.items() if k not in variable}
