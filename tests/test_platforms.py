"""Platform clients (Bedrock, Vertex, Foundry): one span per call, with their provider name.

They all go through the first-party resource classes, except the Bedrock and Vertex beta
messages, which copy the functions at import; hooking the SDK's `request()` covers both.
Every client is pointed at the fake API, whose Bedrock and Vertex routes answer like the real ones.
"""

from __future__ import annotations

from typing import Any, Callable

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import API_KEY, metric_points, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"


def bedrock(base_url: str) -> Any:
    return anthropic.AnthropicBedrock(
        aws_access_key="AKIAFAKEFAKEFAKE0000",
        aws_secret_key="fake-secret-0123456789",
        aws_region="us-east-1",
        base_url=base_url,
        max_retries=0,
    )


def vertex(base_url: str) -> Any:
    return anthropic.AnthropicVertex(
        region="us-east5", project_id="fake-project", access_token="fake-token", base_url=base_url, max_retries=0
    )


def foundry(base_url: str) -> Any:
    return anthropic.AnthropicFoundry(api_key=API_KEY, base_url=base_url, max_retries=0)


# (client factory, gen_ai.provider.name); Foundry exists in newer SDKs only.
PLATFORMS: list[tuple[Callable[[str], Any], str]] = [(bedrock, "aws.bedrock"), (vertex, "gcp.vertex_ai")]
if hasattr(anthropic, "AnthropicFoundry"):
    PLATFORMS.append((foundry, "anthropic"))


@pytest.mark.parametrize(("factory", "provider"), PLATFORMS, ids=[f.__name__ for f, _ in PLATFORMS])
@pytest.mark.parametrize("surface", ["messages", "beta.messages"])
def test_platform_client_call_has_one_span_with_its_provider(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    factory: Callable[[str], Any],
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
