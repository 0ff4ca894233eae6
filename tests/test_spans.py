"""One CLIENT span per call, named and attributed as the SDK's own, on every SDK version."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply
from tests.conftest import SCOPE, SDK_VERSION, ClientFactory, metric_points, spans_named, user_message

pytestmark = pytest.mark.usefixtures("instrument")

MODEL = "claude-sonnet-4-6"
USAGE = {
    "input_tokens": 120,
    "output_tokens": 42,
    "cache_creation_input_tokens": 300,
    "cache_read_input_tokens": 2000,
    "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
}


def only_span(exporter: InMemorySpanExporter, name: str = "anthropic.messages.create") -> Any:
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [name]
    return spans[0]


def test_create_has_one_client_span_with_request_id_usage_and_rate_limits(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, sdk_tracing: bool
) -> None:
    api.queue(MessageReply(text="Hi there", usage=USAGE, stop_reason="end_turn"))
    message = make_client().messages.create(model=MODEL, max_tokens=256, messages=user_message())

    span = only_span(span_exporter)
    attributes = dict(span.attributes)
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.OK
    assert span.instrumentation_scope.name == SCOPE[sdk_tracing]
    assert attributes["anthropic.request.id"] == message._request_id
    assert attributes["anthropic.request.id"].startswith("req_")
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["gen_ai.request.max_tokens"] == 256
    assert attributes["gen_ai.response.model"] == MODEL
    assert attributes["gen_ai.response.id"] == message.id
    assert attributes["gen_ai.usage.input_tokens"] == 120 + 2000 + 300
    assert attributes["gen_ai.usage.output_tokens"] == 42
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 2000
    assert attributes["gen_ai.usage.cache_write.input_tokens"] == 300
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == 300
    assert attributes["anthropic.usage.cache_creation.ephemeral_5m_input_tokens"] == 200
    assert attributes["anthropic.usage.cache_creation.ephemeral_1h_input_tokens"] == 100
    assert attributes["anthropic.usage.server_tool_use.web_search_requests"] == 2
    assert attributes["anthropic.usage.server_tool_use.web_fetch_requests"] == 1
    assert attributes["anthropic.message.stop_reason"] == "end_turn"
    assert attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert attributes["http.request.method"] == "POST"
    assert attributes["http.response.status_code"] == 200
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == int(api.base_url.rsplit(":", 1)[1])
    assert attributes["url.path"] == "/v1/messages"
    assert attributes["anthropic.ratelimit.requests.limit"] > 0
    assert 0 <= attributes["anthropic.ratelimit.requests.remaining"] < attributes["anthropic.ratelimit.requests.limit"]
    for kind in ("tokens", "input_tokens", "output_tokens"):
        assert f"anthropic.ratelimit.{kind}.remaining" in attributes
    assert "http.request.resend_count" not in attributes
    assert "error.type" not in attributes


async def test_async_create_has_one_span(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text="async", usage={"input_tokens": 7, "output_tokens": 3}))
    message = await make_client(async_=True).messages.create(model=MODEL, max_tokens=16, messages=user_message())

    span = only_span(span_exporter)
    assert span.attributes["anthropic.request.id"] == message._request_id
    assert span.attributes["gen_ai.usage.input_tokens"] == 7
    assert span.attributes["gen_ai.usage.output_tokens"] == 3


def test_caller_span_is_the_parent(
    make_client: ClientFactory, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter
) -> None:
    client = make_client()
    with tracer_provider.get_tracer("test").start_as_current_span("handle-ticket") as parent:
        client.messages.create(model=MODEL, max_tokens=16, messages=user_message())
    (call,) = spans_named(span_exporter, "anthropic.messages.create")
    assert call.parent is not None
    assert call.parent.span_id == parent.get_span_context().span_id
    assert call.context.trace_id == parent.get_span_context().trace_id


def test_count_tokens_span(api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
    result = make_client().messages.count_tokens(model=MODEL, messages=user_message("count me"))

    span = only_span(span_exporter, "anthropic.messages.count_tokens")
    assert span.attributes["anthropic.message.count_tokens.input_tokens"] == result.input_tokens
    assert span.attributes["gen_ai.request.model"] == MODEL
    assert "gen_ai.operation.name" not in span.attributes
    assert span.attributes["anthropic.request.id"].startswith("req_")


def test_beta_create_span(api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
    api.queue(MessageReply(text="beta", usage={"input_tokens": 11, "output_tokens": 5}))
    message = make_client().beta.messages.create(
        model=MODEL, max_tokens=16, messages=user_message(), betas=["context-management-2025-06-27"]
    )
    span = only_span(span_exporter)
    assert span.attributes["anthropic.request.id"] == message._request_id
    assert span.attributes["anthropic.beta"] == ("context-management-2025-06-27",)
    assert span.attributes["gen_ai.usage.input_tokens"] == 11


@pytest.mark.only_if(SDK_VERSION >= (0, 77), reason="messages.parse exists from SDK 0.77")
def test_parse_span(api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
    import pydantic

    class Ticket(pydantic.BaseModel):
        priority: str

    api.queue(MessageReply(text='{"priority": "high"}', usage={"input_tokens": 20, "output_tokens": 6}))
    parsed = make_client().messages.parse(
        model=MODEL, max_tokens=64, messages=user_message("triage"), output_format=Ticket
    )
    assert parsed.parsed_output == Ticket(priority="high")
    span = only_span(span_exporter)
    assert span.attributes["anthropic.request.id"] == parsed._request_id
    assert span.attributes["gen_ai.output.type"] == "json"
    assert span.attributes["gen_ai.usage.output_tokens"] == 6


def test_with_raw_response_span_has_request_id(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(MessageReply(text="raw", usage={"input_tokens": 9, "output_tokens": 4}))
    raw = make_client().messages.with_raw_response.create(model=MODEL, max_tokens=16, messages=user_message())
    message = raw.parse()
    assert message.content[0].text == "raw"

    span = only_span(span_exporter)
    assert span.attributes["anthropic.request.id"] == raw.headers["request-id"]
    assert span.attributes["gen_ai.usage.output_tokens"] == 4


def test_with_streaming_response_span_ends_when_parsed(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    sdk_tracing: bool,
) -> None:
    api.queue(MessageReply(text="body later", usage={"input_tokens": 13, "output_tokens": 2}))
    client = make_client()
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=16, messages=user_message()
    ) as response:
        assert span_exporter.get_finished_spans() == ()
        request_id = response.headers["request-id"]
        message = response.parse()
    assert message.content[0].text == "body later"
    span = only_span(span_exporter)
    assert span.attributes["anthropic.request.id"] == request_id
    assert span.attributes["http.response.status_code"] == 200
    # The SDK's own span (1.14+) leaves the usage of a body read later out, and we add nothing it sets itself.
    assert span.attributes.get("gen_ai.usage.output_tokens") == (None if sdk_tracing else 2)
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in metric_points(metric_reader, "gen_ai.client.token.usage")
    }
    assert tokens == {"input": 13, "output": 2}


def test_with_streaming_response_closed_unread_ends_once(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    with make_client().messages.with_streaming_response.create(model=MODEL, max_tokens=16, messages=user_message()):
        pass
    span = only_span(span_exporter)
    assert span.attributes["http.response.status_code"] == 200
    assert "gen_ai.usage.output_tokens" not in span.attributes


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.APIStatusError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.APIStatusError, "overloaded_error"),
    ],
)
def test_api_errors_propagate_unchanged_and_mark_the_span(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    status: int,
    exception: type[Exception],
    error_type: str,
) -> None:
    api.queue(ErrorReply(status, retry_after=3))
    with pytest.raises(exception) as raised:
        make_client().messages.create(model=MODEL, max_tokens=16, messages=user_message())
    assert raised.value.status_code == status

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    assert span.attributes["http.response.status_code"] == status
    assert span.attributes["anthropic.request.id"] == raised.value.response.headers["request-id"]
    assert span.attributes["anthropic.ratelimit.retry_after"] == 3.0


def test_error_is_the_same_object_with_the_same_type_as_without_instrumentation(
    api: FakeClaudeAPI, make_client: ClientFactory, instrument: Any
) -> None:
    def failure() -> BaseException:
        api.queue(ErrorReply(529))
        try:
            make_client().messages.create(model=MODEL, max_tokens=16, messages=user_message())
        except anthropic.APIStatusError as error:
            return error
        raise AssertionError("no error raised")

    instrumented = failure()
    instrument.uninstrument()
    bare = failure()
    instrument.instrument()
    assert type(instrumented) is type(bare)
    assert str(instrumented) == str(bare).replace(bare.request_id or "", instrumented.request_id or "")
    assert instrumented.__traceback__ is not None


def test_connection_error_span(make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
    client = make_client(base_url="http://127.0.0.1:9")
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model=MODEL, max_tokens=16, messages=user_message())
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "connection_error"
    assert "anthropic.request.id" not in span.attributes


def test_retries_make_one_span_with_resend_count(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    api.queue(ErrorReply(429, retry_after=0), ErrorReply(529, retry_after=0), MessageReply(text="ok"))
    message = make_client(max_retries=2).messages.create(model=MODEL, max_tokens=16, messages=user_message())

    assert api.request_count == 3
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.OK
    assert span.attributes["http.request.resend_count"] == 2
    assert span.attributes["anthropic.request.id"] == message._request_id


def test_generator_messages_reach_the_api_unconsumed(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
) -> None:
    turns = ({"role": "user", "content": text} for text in ("first", "second"))
    make_client().messages.create(model=MODEL, max_tokens=16, messages=turns)
    assert api.requests[-1].json["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "user", "content": "second"},
    ]
    assert len(span_exporter.get_finished_spans()) == 1


def test_other_endpoints_get_no_span(make_client: ClientFactory, span_exporter: InMemorySpanExporter) -> None:
    with pytest.raises(anthropic.NotFoundError):
        make_client().models.retrieve("claude-sonnet-4-6")
    # The SDK's own tracing (1.14+) traces every endpoint; we add nothing to what it makes, and make nothing.
    assert [span.instrumentation_scope.name for span in span_exporter.get_finished_spans()] in ([], [SCOPE[True]])
    assert all(
        "anthropic.ratelimit.requests.limit" not in span.attributes for span in span_exporter.get_finished_spans()
    )


@pytest.mark.sdk_tracing_only
class TestWithTheSdksOwnTracing:
    """SDK 1.14+: the SDK's span is the only one, and carries our extras."""

    def test_one_span_the_sdks_enriched(
        self, api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
    ) -> None:
        api.queue(MessageReply(text="sdk", usage=USAGE, stop_reason="max_tokens"))
        message = make_client(sdk_tracing=True).messages.create(model=MODEL, max_tokens=8, messages=user_message())
        span = only_span(span_exporter)
        assert span.instrumentation_scope.name == "com.anthropic.sdk.python"
        assert span.attributes["anthropic.request.id"] == message._request_id
        assert span.attributes["gen_ai.response.finish_reasons"] == ("max_tokens",)
        assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 300
        assert span.attributes["anthropic.usage.server_tool_use.web_search_requests"] == 2
        assert span.attributes["anthropic.ratelimit.requests.limit"] > 0

    def test_tracing_switched_off_gets_no_span(
        self, api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
    ) -> None:
        """A client not to be traced is not traced by us either (its calls still count in the metrics)."""
        make_client(open_telemetry=False).messages.create(model=MODEL, max_tokens=8, messages=user_message())
        assert span_exporter.get_finished_spans() == ()

    def test_error_on_sdk_span_has_rate_limit_extras(
        self, api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter
    ) -> None:
        api.queue(ErrorReply(429, retry_after=7))
        with pytest.raises(anthropic.RateLimitError):
            make_client(sdk_tracing=True).messages.create(model=MODEL, max_tokens=8, messages=user_message())
        span = only_span(span_exporter)
        assert span.attributes["error.type"] == "rate_limit_error"
        assert span.attributes["anthropic.ratelimit.retry_after"] == 7.0

    @pytest.mark.parametrize("scenario", ["ok", "error", "count_tokens", "retry"])
    def test_our_span_mirrors_the_sdks(
        self, api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, scenario: str
    ) -> None:
        def run(sdk_tracing: bool) -> dict[str, Any]:
            span_exporter.clear()
            client = make_client(sdk_tracing=sdk_tracing, max_retries=1)
            if scenario == "error":
                api.queue(ErrorReply(400))
            if scenario == "retry":
                api.queue(ErrorReply(529, retry_after=0))
            api.queue(MessageReply(text="same", usage=USAGE))
            try:
                if scenario == "count_tokens":
                    client.messages.count_tokens(model=MODEL, messages=user_message())
                else:
                    client.messages.create(model=MODEL, max_tokens=8, messages=user_message())
            except anthropic.APIStatusError:
                pass
            api.reset()
            (span,) = span_exporter.get_finished_spans()
            return {"name": span.name, "kind": span.kind, "status": span.status.status_code, **span.attributes}

        ours, sdks = run(False), run(True)
        variable = {"anthropic.request.id", "gen_ai.response.id"} | {k for k in ours if "ratelimit" in k}
        assert sorted(ours) == sorted(sdks)
        assert {k: v for k, v in ours.items() if k not in variable} == {
            k: v for k, v in sdks.items() if k not in variable
        }
