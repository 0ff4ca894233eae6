"""Server tools (web search, web fetch, code execution): counted by tool and model, web search priced.

The usage object counts web searches and fetches; code runs are counted from the answer's
`server_tool_use` blocks (`code_execution` and its bash / text editor forms). Web search is billed
per 1,000 searches at the row's `web_search` price (overridable like a token price), under its own
cost category, with no batch discount; a row without that price gives a call with searches no cost.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel._read.price_table import PriceTable
from anthropic_otel._read.pricing import cost_of
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, metric_points, user_message

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 1000, "output_tokens": 300}
TOKENS = (1000 * 3 + 300 * 15) / 1e6
SEARCHES = 3 * 10 / 1000  # $10 per 1,000 searches


def reply() -> MessageReply:
    return MessageReply(
        text="Found it.",
        usage=USAGE,
        server_tool_use={"web_search_requests": 3, "web_fetch_requests": 2},
        server_tools=("web_search", "code_execution", "bash_code_execution"),
    )


def tool_counts(reader: InMemoryMetricReader) -> dict[tuple[str, str], int]:
    return {
        (point.attributes["anthropic.server_tool.name"], point.attributes["gen_ai.request.model"]): point.value
        for point in metric_points(reader, "anthropic.client.server_tool.requests")
    }


def cost_by_category(reader: InMemoryMetricReader) -> dict[str, float]:
    return {
        point.attributes["anthropic.cost.category"]: point.value
        for point in metric_points(reader, "anthropic.client.cost")
    }


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_server_tools_are_counted_by_tool_and_model_and_web_search_is_priced(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    stream: bool,
) -> None:
    client = make_client()
    api.queue(reply())
    ask: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": user_message("Search, fetch, run")}
    if stream:
        list(client.messages.create(**ask, stream=True))
    else:
        client.messages.create(**ask)

    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["anthropic.usage.server_tool_use.web_search_requests"] == 3
    assert span.attributes["anthropic.usage.server_tool_use.web_fetch_requests"] == 2
    assert span.attributes["anthropic.usage.server_tool_use.code_execution_requests"] == 2
    assert math.isclose(span.attributes["anthropic.cost.usd"], TOKENS + SEARCHES, rel_tol=1e-12)
    assert tool_counts(metric_reader) == {
        ("web_search", MODEL): 3,
        ("web_fetch", MODEL): 2,
        ("code_execution", MODEL): 2,
    }
    categories = cost_by_category(metric_reader)
    assert math.isclose(categories["web_search"], SEARCHES, rel_tol=1e-12)
    assert math.isclose(sum(categories.values()), TOKENS + SEARCHES, rel_tol=1e-12)


CHEAPER_SEARCH = {
    "models": {
        MODEL: {
            "input": 3,
            "cache_write_5m": 3.75,
            "cache_write_1h": 6,
            "cache_read": 0.3,
            "output": 15,
            "web_search": 5,
        }
    }
}


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("instrumented", [{"prices": CHEAPER_SEARCH}], indirect=True)
def test_the_web_search_price_is_overridden_like_a_token_price(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    api.queue(reply())
    make_client().messages.create(model=MODEL, max_tokens=64, messages=user_message())
    assert math.isclose(cost_by_category(metric_reader)["web_search"], 3 * 5 / 1000, rel_tol=1e-12)


def test_web_search_arithmetic() -> None:
    table = PriceTable.load_default()
    usage = {**USAGE, "server_tool_use": {"web_search_requests": 1500, "web_fetch_requests": 7}}
    cost = cost_of(usage, MODEL, table)
    assert cost is not None
    assert math.isclose(cost.web_search, 15.0, rel_tol=1e-12)  # fetches are billed as tokens only
    as_batch = cost_of(usage, MODEL, table, batch=True)
    assert as_batch is not None
    assert math.isclose(as_batch.web_search, 15.0, rel_tol=1e-12)  # no batch discount on searches
    assert math.isclose(as_batch.total, TOKENS / 2 + 15.0, rel_tol=1e-12)
    # Bedrock publishes no web search price: searches there leave the call without a cost, not half-priced.
    bedrock = {"price_list": "aws.bedrock/regional", "profile": "us"}
    assert cost_of(usage, MODEL, table, **bedrock) is None
    assert cost_of(USAGE, MODEL, table, **bedrock) is not None
