"""Diagnostics reach the span, the counter and the log, on both span paths; switched off, nothing does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import pytest

import anthropic_otel
from anthropic_otel._diagnostics import CODES, parse_selection
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, Diagnostics, instrumenting, user_message

MODEL = "claude-haiku-4-5"


def call(client: Any, stream: bool) -> None:
    if stream:
        with client.messages.stream(model=MODEL, max_tokens=16, messages=user_message()) as events:
            events.until_done()
    else:
        client.messages.create(model=MODEL, max_tokens=16, messages=user_message())


@pytest.mark.usefixtures("instrument")
@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_reached_goes_to_span_counter_and_log(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    api.queue(*(MessageReply(text="cut", stop_reason="max_tokens") for _ in range(3)))
    client = make_client(sdk_tracing=sdk_tracing)
    with diagnostics.warnings_caught():
        for _ in range(3):
            call(client, stream)

    assert len(diagnostics.exporter.get_finished_spans()) == 3
    message = f"the answer was cut off at max_tokens=16: {CODES['max_tokens_reached'].fix}"
    expected = {
        "anthropic.diagnostic.code": "max_tokens_reached",
        "anthropic.diagnostic.message": message,
        "gen_ai.request.max_tokens": 16,
    }
    assert diagnostics.events() == [expected] * 3
    assert diagnostics.counts() == {"max_tokens_reached": 3}
    assert diagnostics.warnings() == [f"anthropic-otel [max_tokens_reached]: {message}"]


@pytest.mark.usefixtures("instrument")
@pytest.mark.parametrize("stream", [False, True])
def test_a_finished_answer_is_no_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, stream: bool
) -> None:
    api.queue(MessageReply(text="done", stop_reason="end_turn"))
    call(make_client(sdk_tracing=sdk_tracing), stream)

    diagnostics.assert_none(spans=1)


@pytest.mark.parametrize("setting", ["none", "history_dropped", "all,-max_tokens_reached"])
def test_switched_off_nothing_fires(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    diagnostics: Diagnostics,
    tracer_provider: Any,
    meter_provider: Any,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_DIAGNOSTICS", setting)
    with instrumenting(tracer_provider, meter_provider):
        api.queue(MessageReply(text="cut", stop_reason="max_tokens"))
        make_client().messages.create(model=MODEL, max_tokens=16, messages=user_message())

    diagnostics.assert_none(spans=1)


def test_selection_parses_all_none_lists_and_exclusions() -> None:
    assert parse_selection(None) == (frozenset(CODES), [])
    assert parse_selection("none") == (frozenset(), [])
    assert parse_selection("max_tokens_reached, rate_limited") == (
        frozenset({"max_tokens_reached", "rate_limited"}),
        [],
    )
    assert parse_selection("all,-history_dropped") == (frozenset(CODES) - {"history_dropped"}, [])
    assert parse_selection("max_token_reached") == (frozenset(), ["max_token_reached"])


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("detector bug")


@pytest.mark.usefixtures("instrument")
@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_detector_changes_nothing_for_the_call_nor_the_others(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    diagnostics: Diagnostics,
    monkeypatch: pytest.MonkeyPatch,
    sdk_tracing: bool,
    stream: bool,
) -> None:
    from anthropic_otel import _diagnostics as detectors

    for name in ("unknown_betas", "prompt_prefix", "failed_attempt"):
        monkeypatch.setattr(detectors, name, _boom)
    monkeypatch.setattr(detectors.ConversationWatch, "observe", _boom)
    monkeypatch.setattr(detectors.RateLimitWatch, "started", _boom)
    api.queue(ErrorReply(429, retry_after=0), MessageReply(text="cut", stop_reason="max_tokens"))
    client = make_client(sdk_tracing=sdk_tracing, max_retries=1)
    arguments: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 16,
        "system": [{"type": "text", "text": "policy", "cache_control": {"type": "ephemeral"}}],
        "messages": user_message(),
        "extra_headers": {"anthropic-beta": "no-such-beta"},
    }
    with anthropic_otel.conversation("c-boom"):
        if stream:
            with client.messages.stream(**arguments) as events:
                message = events.get_final_message()
        else:
            message = client.messages.create(**arguments)

    assert isinstance(message, anthropic.types.Message)
    assert (message.content[0].text, message.stop_reason) == ("cut", "max_tokens")
    assert len(diagnostics.exporter.get_finished_spans()) == 1
    assert diagnostics.codes() == ["max_tokens_reached"]
    assert diagnostics.counts() == {"max_tokens_reached": 1}


def test_the_readme_checklist_lists_exactly_the_codes_with_their_symptoms() -> None:
    readme = (Path(__file__).parent.parent / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    section = readme.split("## Troubleshooting checklist\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "`" in line]
    listed = {row[1].strip("`"): row[0].removeprefix("| ") for row in rows}
    assert len(rows) == len(listed)
    assert listed == {code: entry.symptom for code, entry in CODES.items()}


def _every_signature(api: FakeClaudeAPI, client: Any) -> None:
    """Two calls of one conversation that between them show every detector's signature."""
    zero_cache = {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    api.queue(
        ErrorReply(429, retry_after=0),
        MessageReply(text="cut", stop_reason="max_tokens", usage=zero_cache),
        MessageReply(text="fine"),
    )
    cached = [{"type": "text", "text": "policy", "cache_control": {"type": "ephemeral"}}]
    with anthropic_otel.conversation("c-all"):
        client.messages.create(
            model=MODEL,
            max_tokens=16,
            system=cached,
            messages=user_message("first"),
            extra_headers={"anthropic-beta": "no-such-beta"},
        )
        client.messages.create(model=MODEL, max_tokens=16, messages=user_message("second"))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, {"rate_limited", "max_tokens_reached", "cache_not_written", "beta_header_unknown", "history_dropped"}),
        ("none", set()),
        ("all,-history_dropped,-beta_header_unknown", {"rate_limited", "max_tokens_reached", "cache_not_written"}),
    ],
)
def test_each_code_is_reported_only_when_switched_on(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    diagnostics: Diagnostics,
    tracer_provider: Any,
    meter_provider: Any,
    monkeypatch: pytest.MonkeyPatch,
    setting: Any,
    expected: set[str],
) -> None:
    if setting is not None:
        monkeypatch.setenv("ANTHROPIC_OTEL_DIAGNOSTICS", setting)
    with instrumenting(tracer_provider, meter_provider):
        _every_signature(api, make_client(max_retries=1))

    assert len(diagnostics.exporter.get_finished_spans()) == 2
    assert diagnostics.counts() == dict.fromkeys(expected, 1)
    assert set(diagnostics.codes()) == expected
