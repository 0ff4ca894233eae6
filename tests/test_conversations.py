"""`history_dropped` and `tool_result_missing`: a conversation's next request lost something."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import anthropic
import pytest

import anthropic_otel
from anthropic_otel._diagnostics import CODES
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply, ToolUse
from tests.conftest import ClientFactory, Diagnostics

MODEL = "claude-haiku-4-5"

pytestmark = pytest.mark.usefixtures("instrument")

TOOL = [{"name": "get_order", "description": "Look an order up", "input_schema": {"type": "object"}}]


def send(client: Any, messages: list[Any], stream: bool = False) -> Any:
    """One turn; returns the assistant message's content as the next request should carry it."""
    arguments: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "tools": TOOL, "messages": messages}
    if stream:
        with client.messages.stream(**arguments) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**arguments)
    return [block.model_dump(exclude_none=True) for block in message.content]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def result(tool_id: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": "shipped"}]}


@pytest.mark.parametrize("stream", [False, True])
def test_a_request_without_the_previous_turn_is_history_dropped(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    with diagnostics.warnings_caught(), anthropic_otel.conversation("c-1"):
        send(client, [user("Where is order 7?")], stream)
        send(client, [user("And order 8?")], stream)  # the first question and its answer are gone

    assert len(diagnostics.exporter.get_finished_spans()) == 2
    message = (
        "this request's 1 messages do not continue the previous request's 1 messages and its response; "
        f"{CODES['history_dropped'].fix}"
    )
    assert diagnostics.events() == [
        {
            "anthropic.diagnostic.previous_messages": 1,
            "anthropic.diagnostic.messages": 1,
            "anthropic.diagnostic.code": "history_dropped",
            "anthropic.diagnostic.message": message,
        }
    ]
    assert diagnostics.counts() == {"history_dropped": 1}
    assert diagnostics.warnings() == [f"anthropic-otel [history_dropped]: {message}"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_conversation_carried_in_full_is_no_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    api.queue(MessageReply(tool_uses=[ToolUse("get_order", {"id": 7}, id="toolu_01A")]), MessageReply(text="Shipped."))
    client = make_client(sdk_tracing=sdk_tracing)
    with anthropic_otel.conversation("c-2"):
        history: list[Any] = [user("Where is order 7?")]
        history += [{"role": "assistant", "content": send(client, history, stream)}, result("toolu_01A")]
        history += [{"role": "assistant", "content": send(client, history, stream)}, user("Thanks!")]
        send(client, history, stream)
    send(client, [user("Unrelated question")])  # outside the conversation: not compared

    diagnostics.assert_none(spans=4)


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_not_answered_is_tool_result_missing(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    api.queue(MessageReply(tool_uses=[ToolUse("get_order", {"id": 7}, id="toolu_01B")]))
    client = make_client(sdk_tracing=sdk_tracing)
    with anthropic_otel.conversation(f"c-{uuid.uuid4().hex}"):
        first = [user("Where is order 7?")]
        send(client, first, stream)
        send(client, [*first, user("Well?")], stream)  # no assistant turn, no tool_result: the agent stalls

    missing = (
        "the previous response stopped for tools toolu_01B and this request has no tool_result for them; "
        f"{CODES['tool_result_missing'].fix}"
    )
    dropped = (
        "this request's 2 messages do not continue the previous request's 1 messages and its response; "
        f"{CODES['history_dropped'].fix}"
    )
    assert diagnostics.events() == [
        {
            "anthropic.diagnostic.previous_messages": 1,
            "anthropic.diagnostic.messages": 2,
            "anthropic.diagnostic.code": "history_dropped",
            "anthropic.diagnostic.message": dropped,
        },
        {
            "anthropic.diagnostic.tool_use_ids": ("toolu_01B",),
            "anthropic.diagnostic.code": "tool_result_missing",
            "anthropic.diagnostic.message": missing,
        },
    ]
    assert diagnostics.counts() == {"history_dropped": 1, "tool_result_missing": 1}


@pytest.mark.parametrize("conversation", [None, "c-400"])
def test_the_apis_400_for_an_unanswered_tool_use_is_tool_result_missing(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, conversation: Any
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    asked = {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_01C", "name": "get_order", "input": {}}],
    }
    scope = anthropic_otel.conversation(conversation) if conversation else contextlib.nullcontext()
    with scope, pytest.raises(anthropic.BadRequestError) as refused:
        send(client, [user("Where is order 7?"), asked, user("Well?")])

    api_message = (
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01C. "
        "Each `tool_use` block must have a corresponding `tool_result` block in the next message."
    )
    assert api_message in str(refused.value)
    assert len(diagnostics.exporter.get_finished_spans()) == 1
    assert diagnostics.events() == [
        {
            "http.response.status_code": 400,
            "anthropic.diagnostic.code": "tool_result_missing",
            "anthropic.diagnostic.message": (
                "the API refused the request (400: `tool_use` ids were found without `tool_result` blocks); "
                f"{CODES['tool_result_missing'].fix}"
            ),
        }
    ]
    assert diagnostics.counts() == {"tool_result_missing": 1}


def test_a_failed_call_does_not_move_the_conversation_on(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    api.queue(MessageReply(text="7 shipped"), ErrorReply(500))
    client = make_client(sdk_tracing=sdk_tracing)
    with anthropic_otel.conversation("c-retry"):
        history: list[Any] = [user("Where is order 7?")]
        history += [{"role": "assistant", "content": send(client, history)}, user("And 8?")]
        with pytest.raises(anthropic.InternalServerError):
            send(client, history)
        send(client, history)  # the application sends the same request again

    assert len(diagnostics.exporter.get_finished_spans()) == 3
    assert diagnostics.events() == []


@pytest.mark.sdk_tracing_only
def test_the_clients_conversation_option_is_a_conversation_too(
    api: FakeClaudeAPI, make_client: ClientFactory, tracer_provider: Any, diagnostics: Diagnostics
) -> None:
    client = make_client(open_telemetry={"tracer_provider": tracer_provider, "conversation_id": "c-option"})
    send(client, [user("Where is order 7?")])
    send(client, [user("And order 8?")])

    assert [span.attributes["gen_ai.conversation.id"] for span in diagnostics.exporter.get_finished_spans()] == [
        "c-option",
        "c-option",
    ]
    assert diagnostics.codes() == ["history_dropped"]
    assert diagnostics.counts() == {"history_dropped": 1}
