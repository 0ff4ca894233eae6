"""The pure extractors: request, response, headers, errors, routes."""

from __future__ import annotations

import pytest

from anthropic_otel._read.attributes import (
    error_type,
    request_attributes,
    response_attributes,
    url_attributes,
)
from anthropic_otel._read.headers import header_attributes, header_pairs
from anthropic_otel._read.operations import COUNT_TOKENS, MESSAGES_CREATE, operation_for
from tests.conftest import sdk_httpx as httpx

_HEADERS = [
    ("Request-Id", "req_abc"),
    ("anthropic-organization-id", "org-1"),
    ("anthropic-ratelimit-requests-limit", "50"),
    ("anthropic-ratelimit-requests-remaining", "49"),
    ("anthropic-ratelimit-requests-reset", "2026-11-24T10:00:00Z"),
    ("anthropic-ratelimit-input-tokens-limit", "40000"),
    ("anthropic-ratelimit-input-tokens-remaining", "not-a-number"),
    ("anthropic-ratelimit-output-tokens-remaining", "7999"),
    ("retry-after", "12"),
    ("x-api-key", "must-never-appear"),
    ("authorization", "Bearer nope"),
]


@pytest.mark.parametrize("raw", [False, True], ids=["str", "raw bytes"])
def test_header_attributes_read_ids_rate_limits_and_retry_after_in_one_pass(raw: bool) -> None:
    headers = [(name.encode(), value.encode()) for name, value in _HEADERS] if raw else _HEADERS
    assert header_attributes(headers) == {
        "anthropic.request.id": "req_abc",
        "anthropic.organization.id": "org-1",
        "anthropic.ratelimit.requests.limit": 50,
        "anthropic.ratelimit.requests.remaining": 49,
        "anthropic.ratelimit.input_tokens.limit": 40000,
        "anthropic.ratelimit.output_tokens.remaining": 7999,
        "anthropic.ratelimit.retry_after": 12.0,
    }


def test_header_pairs_reads_raw_httpx_headers_and_plain_mappings() -> None:
    headers = httpx.Headers([("Request-Id", "req_raw"), ("anthropic-ratelimit-tokens-limit", "9")])
    assert header_pairs(headers) == [(b"Request-Id", b"req_raw"), (b"anthropic-ratelimit-tokens-limit", b"9")]
    expected = {"anthropic.request.id": "req_raw", "anthropic.ratelimit.tokens.limit": 9}
    assert header_attributes(header_pairs(headers)) == expected
    plain = {"request-id": "req_raw", "anthropic-ratelimit-tokens-limit": "9"}
    assert header_attributes(header_pairs(plain)) == expected


def test_retry_after_ms_wins_and_garbage_is_ignored() -> None:
    assert header_attributes([("retry-after", "3"), ("retry-after-ms", "1500")]) == {
        "anthropic.ratelimit.retry_after": 1.5
    }
    assert header_attributes([("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]) == {}
    assert header_attributes([("retry-after", "nan"), ("request-id", "")]) == {}


def test_request_attributes_mirror_the_sdk() -> None:
    body = {
        "model": "claude-opus-4-8",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "secret prompt"}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "service_tier": "auto",
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {}}},
    }
    attributes = request_attributes(
        MESSAGES_CREATE, "post", body, "a-2025-01-01, b-2025-02-02", stream=True, provider="anthropic"
    )
    assert attributes == {
        "gen_ai.provider.name": "anthropic",
        "http.request.method": "POST",
        "http.route": "/v1/messages",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-opus-4-8",
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.request.reasoning.level": "high",
        "anthropic.request.service_tier": "auto",
        "anthropic.thinking.type": "enabled",
        "anthropic.thinking.budget_tokens": 2048,
        "anthropic.beta": ["a-2025-01-01", "b-2025-02-02"],
        "gen_ai.output.type": "json",
        "gen_ai.request.stream": True,
    }
    assert "secret prompt" not in repr(attributes)


def test_count_tokens_request_has_model_only() -> None:
    assert request_attributes(
        COUNT_TOKENS, "POST", {"model": "m", "messages": []}, None, stream=False, provider="x"
    ) == {
        "gen_ai.provider.name": "x",
        "http.request.method": "POST",
        "http.route": "/v1/messages/count_tokens",
        "gen_ai.request.model": "m",
    }


def test_response_attributes_sum_input_and_keep_types() -> None:
    body = {
        "id": "msg_1",
        "model": "claude-opus-4-8",
        "stop_reason": "tool_use",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 40,
            "service_tier": "priority",
            "output_tokens_details": {"thinking_tokens": 5},
            "server_tool_use": {"web_search_requests": 3},
        },
    }
    assert response_attributes(MESSAGES_CREATE, body) == {
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": "claude-opus-4-8",
        "gen_ai.usage.cache_write.input_tokens": 40,
        "gen_ai.usage.cache_creation.input_tokens": 40,
        "gen_ai.usage.cache_read.input_tokens": 30,
        "anthropic.response.service_tier": "priority",
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.reasoning.output_tokens": 5,
        "anthropic.message.stop_reason": "tool_use",
        "gen_ai.usage.input_tokens": 80,
        "anthropic.usage.server_tool_use.web_search_requests": 3,
        "gen_ai.response.finish_reasons": ["tool_use"],
    }


@pytest.mark.parametrize("body", [None, {}, {"usage": "nope"}, {"usage": {"input_tokens": True}}, "text"])
def test_response_attributes_tolerate_garbage(body: object) -> None:
    assert response_attributes(MESSAGES_CREATE, body) == {}


def test_url_attributes_keep_only_defined_query_parameters() -> None:
    assert url_attributes("https", "api.anthropic.com", "/v1/messages", "beta=true", frozenset()) == {
        "url.scheme": "https",
        "url.path": "/v1/messages",
        "url.full": "https://api.anthropic.com/v1/messages",
    }
    assert url_attributes("http", "h:1", "/v1/messages/batches", "limit=5&x=1", frozenset({"limit"}))["url.query"] == (
        "limit=5"
    )


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("POST", "/v1/messages", "anthropic.messages.create"),
        ("POST", "/v1/messages?beta=true", "anthropic.messages.create"),
        ("post", "/v1/messages/count_tokens?beta=true", "anthropic.messages.count_tokens"),
        ("POST", "/v1/complete", "anthropic.completions.create"),
        ("GET", "/v1/messages/batches", "anthropic.messages.batches.list"),
        ("GET", "/v1/messages/batches/msgbatch_1", "anthropic.messages.batches.retrieve"),
        ("POST", "/v1/messages/batches/msgbatch_1/cancel", "anthropic.messages.batches.cancel"),
        ("DELETE", "/v1/messages/batches/msgbatch_1", "anthropic.messages.batches.delete"),
        (
            "GET",
            "https://api.anthropic.com/v1/messages/batches/msgbatch_1/results",
            "anthropic.messages.batches.results",
        ),
        ("GET", "/v1/models", None),
        ("GET", "/v1/messages", None),
    ],
)
def test_operation_for(method: str, url: str, name: str | None) -> None:
    operation = operation_for(method, url)
    assert (operation.name if operation else None) == name


def test_error_type_of_non_api_errors() -> None:
    assert error_type(ValueError("x")) == "client_error"

    class APITimeoutError(Exception):
        pass

    assert error_type(APITimeoutError()) == "client_timeout_error"
