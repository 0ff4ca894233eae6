"""`cache_prefix_changed` and `cache_not_written`: caching that saves nothing, and its healthy twins."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from anthropic_otel._diagnostics import CODES
from anthropic_otel._diagnostics.prompt_cache import CacheWatch, prompt_prefix
from anthropic_otel._diagnostics.state import BoundedLRU
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, Diagnostics, spans_named, user_message

MODEL = "claude-haiku-4-5"

pytestmark = pytest.mark.usefixtures("instrument")

POLICY = "You triage support tickets. Answer with one of: billing, bug, account, other. " * 20


def system(text: str, ttl: str = "") -> list[dict[str, Any]]:
    control: dict[str, str] = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return [{"type": "text", "text": text, "cache_control": control}]


def ask(client: Any, prompt: list[dict[str, Any]], stream: bool = False) -> None:
    arguments: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "system": prompt, "messages": user_message()}
    if stream:
        with client.messages.stream(**arguments) as events:
            events.until_done()
    else:
        client.messages.create(**arguments)


def cache_writes(exporter: InMemorySpanExporter) -> list[Any]:
    return [
        span.attributes["gen_ai.usage.cache_creation.input_tokens"]
        for span in spans_named(exporter, "anthropic.messages.create")
    ]


@pytest.mark.parametrize("stream", [False, True])
def test_a_timestamp_before_the_breakpoint_is_reported(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    run = uuid.uuid4().hex  # the fake API's cache lives as long as the test session
    with diagnostics.warnings_caught(), anthropic_otel.route("triage"):
        ask(client, system(f"Now: 2026-11-25T10:00:00 {run}. {POLICY}"), stream)
        ask(client, system(f"Now: 2026-11-25T10:00:07 {run}. {POLICY}"), stream)

    written = cache_writes(diagnostics.exporter)
    assert len(written) == 2
    assert written[1] > 0
    message = (
        f"this call wrote {written[1]} cache tokens and read none: the system prompt before its breakpoint changed "
        f"since this route and model cached a prefix within its TTL; {CODES['cache_prefix_changed'].fix}"
    )
    assert diagnostics.events() == [
        {
            "anthropic.diagnostic.changed": "system prompt",
            "gen_ai.usage.cache_creation.input_tokens": written[1],
            "anthropic.diagnostic.code": "cache_prefix_changed",
            "anthropic.diagnostic.message": message,
        }
    ]
    assert diagnostics.counts() == {"cache_prefix_changed": 1}
    assert diagnostics.warnings() == [f"anthropic-otel [cache_prefix_changed] route triage: {message}"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_stable_prefix_written_then_read_is_no_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    prompt = system(f"{uuid.uuid4().hex} {POLICY}", ttl="1h")
    with anthropic_otel.route("triage"):
        for _ in range(3):
            ask(client, prompt, stream)

    diagnostics.assert_none(spans=3)


def test_different_routes_and_tools_changes_are_told_apart(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    run = uuid.uuid4().hex
    with anthropic_otel.route("a"):
        ask(client, system(f"A {run} {POLICY}"))
    with anthropic_otel.route("b"):  # another route's cache is no comparison
        ask(client, system(f"B {run} {POLICY}"))
    prompt = system(f"C {run} {POLICY}")
    for tool in ("lookup", "search"):
        tools = [{"name": tool, "input_schema": {"type": "object"}}]
        client.messages.create(model=MODEL, max_tokens=16, system=prompt, tools=tools, messages=user_message())

    changed = [event["anthropic.diagnostic.changed"] for event in diagnostics.events()]
    assert changed == ["tools"]
    assert diagnostics.counts() == {"cache_prefix_changed": 1}


@pytest.mark.parametrize("stream", [False, True])
def test_breakpoints_without_any_cache_traffic_are_reported(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    # What the API answers for a prefix below the model's minimum cacheable length.
    api.queue(MessageReply(usage={"input_tokens": 57, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}))
    ask(make_client(sdk_tracing=sdk_tracing), system("Be brief."), stream)

    fix = CODES["cache_not_written"].fix
    message = f"1 cache_control breakpoint(s) but no cache written or read (57 input tokens); {fix}"
    assert diagnostics.events() == [
        {
            "anthropic.diagnostic.breakpoints": 1,
            "gen_ai.usage.input_tokens": 57,
            "anthropic.diagnostic.code": "cache_not_written",
            "anthropic.diagnostic.message": message,
        }
    ]
    assert diagnostics.counts() == {"cache_not_written": 1}


def test_no_breakpoints_no_cache_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    client = make_client(sdk_tracing=sdk_tracing)
    for text in ("one", "two"):
        client.messages.create(model=MODEL, max_tokens=16, system=f"{text} {POLICY}", messages=user_message())

    diagnostics.assert_none(spans=2)


def test_prefix_hashes_follow_breakpoints_and_ttls() -> None:
    request = {
        "tools": [{"name": "t", "input_schema": {}}],
        "system": system("S", ttl="1h"),
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "u", "cache_control": {"type": "ephemeral"}}]}
        ],
    }
    prefix = prompt_prefix(request)
    assert prefix is not None
    assert [ttl for _, ttl in prefix.breakpoints] == [3600.0, 300.0]
    moved = dict(request, messages=[{"role": "user", "content": [{"type": "text", "text": "u"}]}])
    assert prompt_prefix(moved) == type(prefix)(prefix.tools, prefix.system, prefix.breakpoints[:1])
    assert prompt_prefix({"messages": user_message()}) is None
    automatic = prompt_prefix({"messages": user_message(), "cache_control": {"type": "ephemeral", "ttl": "1h"}})
    assert automatic is not None
    assert [ttl for _, ttl in automatic.breakpoints] == [3600.0]


@pytest.mark.parametrize(("ttl", "later", "fires"), [("", 299.0, True), ("", 301.0, False), ("1h", 3599.0, True)])
def test_a_different_prefix_counts_only_within_the_ttl_of_the_last_write(ttl: str, later: float, fires: bool) -> None:
    now = [0.0]
    watch = CacheWatch(clock=lambda: now[0])
    written = {"cache_creation_input_tokens": 1500, "cache_read_input_tokens": 0}
    first = prompt_prefix({"system": system("v1", ttl), "messages": user_message()})
    second = prompt_prefix({"system": system("v2", ttl), "messages": user_message()})
    assert first is not None
    assert second is not None
    options = {"prefix_changed": True, "not_written": True}
    assert watch.observe(("r", "m"), first, written, **options) == []
    now[0] = later
    codes = [finding.code for finding in watch.observe(("r", "m"), second, written, **options)]
    assert codes == (["cache_prefix_changed"] if fires else [])


def test_state_is_bounded() -> None:
    lru: BoundedLRU[str, int] = BoundedLRU(3)
    for index in range(10):
        lru.put(f"k{index}", index)
    lru.get("k7")
    lru.put("k10", 10)
    assert len(lru) == 3
    assert (lru.get("k7"), lru.get("k8"), lru.get("k10")) == (7, None, 10)
