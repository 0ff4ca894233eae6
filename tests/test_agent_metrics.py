"""The tool runner on both span paths: its totals, `gen_ai.invoke_agent.duration`, `gen_ai.execute_tool.duration`,
and its tools' arguments and results on their spans when content capture is on.

SDK 1.14+ makes the runner and tool spans itself when its tracing records (`sdk-span`): they get
the totals and the content; with it off (`own-span`) there are no runner or tool spans, and the
metrics are the same. SDKs 0.68 to 1.13 get our spans (`own-span` only).
"""

from __future__ import annotations

import json
from typing import Any, Optional

import anthropic
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import route
from anthropic_otel.testing import FakeClaudeAPI, MessageReply, ToolUse
from tests.conftest import SDK_TRACES, ClientFactory, metric_points, user_message
from tests.test_cardinality import check_allow_list

MODEL = "claude-sonnet-4-6"
CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


@anthropic.beta_tool
def lookup_order(order: str) -> str:
    """Where an order is."""
    if order == "missing":
        raise ValueError("no such order")
    return f"order {order} ships tomorrow"


def redact(content: dict[str, Any]) -> Optional[dict[str, Any]]:
    """A redaction hook: arguments kept without the order number, results dropped."""
    arguments = content.get("gen_ai.tool.call.arguments")
    return {"gen_ai.tool.call.arguments": {**arguments, "order": "[redacted]"}} if arguments else None


def run_two_tools(api: FakeClaudeAPI, make_client: ClientFactory) -> Any:
    api.queue(
        MessageReply(
            tool_uses=[ToolUse("lookup_order", {"order": "A-17"}, id="toolu_01")],
            usage={"input_tokens": 100, "output_tokens": 20},
        ),
        MessageReply(
            tool_uses=[ToolUse("lookup_order", {"order": "missing"}, id="toolu_02")],
            usage={"input_tokens": 150, "output_tokens": 25},
        ),
        MessageReply(
            text="A-17 ships tomorrow.", usage={"input_tokens": 200, "cache_read_input_tokens": 50, "output_tokens": 10}
        ),
    )
    with route("support"):
        return (
            make_client()
            .beta.messages.tool_runner(
                model=MODEL, max_tokens=64, messages=user_message("Where are my orders?"), tools=[lookup_order]
            )
            .until_done()
        )


def points(reader: InMemoryMetricReader, name: str) -> list[dict[str, Any]]:
    return [{"count": p.count, **p.attributes} for p in metric_points(reader, name)]


@pytest.mark.usefixtures("instrumented")
def test_runner_and_tool_durations_on_every_path(
    api: FakeClaudeAPI, make_client: ClientFactory, metric_reader: InMemoryMetricReader
) -> None:
    final = run_two_tools(api, make_client)

    assert final.content[0].text == "A-17 ships tomorrow."
    assert points(metric_reader, "gen_ai.invoke_agent.duration") == [
        {
            "count": 1,
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": MODEL,
            "anthropic.route": "support",
        }
    ]
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.provider.name": "anthropic", "anthropic.route": "support"}
    tool |= {"gen_ai.tool.name": "lookup_order", "gen_ai.tool.type": "function"}
    assert sorted(points(metric_reader, "gen_ai.execute_tool.duration"), key=len) == [
        {"count": 1, **tool},
        {"count": 1, **tool, "error.type": "tool_error"},
    ]
    assert check_allow_list(metric_reader) > 0


@pytest.mark.usefixtures("instrumented")
def test_the_runner_span_has_its_model_calls_totals(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, sdk_tracing: bool
) -> None:
    run_two_tools(api, make_client)
    runners = [span for span in span_exporter.get_finished_spans() if span.name == "anthropic.messages.tool_runner"]
    if SDK_TRACES and not sdk_tracing:
        assert runners == []  # the SDK's own span does not record, and we add none beside it
        return
    (runner,) = runners
    assert runner.attributes["gen_ai.usage.input_tokens"] == 100 + 150 + 250  # cache reads are input too
    assert runner.attributes["gen_ai.usage.output_tokens"] == 20 + 25 + 10
    assert runner.attributes["anthropic.cost.usd"] == pytest.approx((450 * 3 + 50 * 0.3 + 55 * 15) / 1e6, rel=1e-12)


def tool_spans(api: FakeClaudeAPI, make_client: ClientFactory, exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    """The `gen_ai.tool.call.*` attributes of the tool spans of `run_two_tools`."""
    run_two_tools(api, make_client)
    return [
        {key: span.attributes[key] for key in span.attributes if key.startswith("gen_ai.tool.call.")}
        for span in exporter.get_finished_spans()
        if span.name == "anthropic.custom_tool_use lookup_order"
    ]


def no_tool_spans(found: list[dict[str, Any]], sdk_tracing: bool) -> bool:
    """On SDK 1.14+ without its tracing there are no tool spans (the SDK makes none, we add none)."""
    if SDK_TRACES and not sdk_tracing:
        assert found == []
        return True
    return False


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("instrumented", [{"env": {CAPTURE: "span_only"}}], indirect=True)
def test_tool_spans_get_arguments_and_result_with_content_capture(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, sdk_tracing: bool
) -> None:
    found = tool_spans(api, make_client, span_exporter)
    if no_tool_spans(found, sdk_tracing):
        return
    first, failed = found
    assert first == {
        "gen_ai.tool.call.id": "toolu_01",
        "gen_ai.tool.call.arguments": json.dumps({"order": "A-17"}, separators=(",", ":")),
        "gen_ai.tool.call.result": json.dumps("order A-17 ships tomorrow"),
    }
    assert json.loads(failed["gen_ai.tool.call.arguments"]) == {"order": "missing"}


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize(
    "instrumented",
    [
        {
            "env": {
                CAPTURE: "span_only",
                "ANTHROPIC_OTEL_CONTENT_HOOK": f"{__name__}:redact",
                "ANTHROPIC_OTEL_CONTENT_MAX_LENGTH": "8",
            }
        }
    ],
    indirect=True,
)
def test_tool_content_goes_through_the_hook_and_the_limit(
    api: FakeClaudeAPI, make_client: ClientFactory, span_exporter: InMemorySpanExporter, sdk_tracing: bool
) -> None:
    found = tool_spans(api, make_client, span_exporter)
    if no_tool_spans(found, sdk_tracing):
        return
    first = found[0]
    assert json.loads(first["gen_ai.tool.call.arguments"]) == {"order": "[redacte"}  # the hook's value, cut to 8
    assert "gen_ai.tool.call.result" not in first  # the hook dropped it
