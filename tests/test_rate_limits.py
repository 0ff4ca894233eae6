"""`rate_limited`: 429/529 attempts, retried or not, with retry-after, headroom and the ramp-up advice."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest

import anthropic_otel
from anthropic_otel._diagnostics import CODES
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, Diagnostics, user_message

MODEL = "claude-haiku-4-5"

pytestmark = pytest.mark.usefixtures("instrument")

FIX = CODES["rate_limited"].fix
HEADROOM = {
    "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-tokens-remaining": "1200",
    "anthropic-ratelimit-input-tokens-remaining": "900",
    "anthropic-ratelimit-output-tokens-remaining": "300",
}
HEADROOM_ATTRIBUTES = {
    "anthropic.ratelimit.requests.remaining": 0,
    "anthropic.ratelimit.tokens.remaining": 1200,
    "anthropic.ratelimit.input_tokens.remaining": 900,
    "anthropic.ratelimit.output_tokens.remaining": 300,
}


def create(client: Any) -> Any:
    return client.messages.create(model=MODEL, max_tokens=16, messages=user_message())


@pytest.mark.parametrize("status", [429, 529])
def test_retried_429s_of_a_call_that_then_succeeded_are_reported_with_their_attempts(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, status: int
) -> None:
    failure = ErrorReply(status, retry_after=0.01, headers=HEADROOM)
    api.queue(failure, failure, MessageReply(text="finally"))
    with diagnostics.warnings_caught(), anthropic_otel.route("triage"):
        message = create(make_client(sdk_tracing=sdk_tracing, max_retries=2))

    assert message.content[0].text == "finally"
    assert len(diagnostics.exporter.get_finished_spans()) == 1
    kind = "rate limit" if status == 429 else "overloaded"
    text = f"2 attempt(s) answered {status} ({kind}), retried after retry-after, the call then succeeded; {FIX}"
    assert diagnostics.events() == [
        {
            "http.response.status_code": status,
            "anthropic.diagnostic.attempts": 2,
            **HEADROOM_ATTRIBUTES,
            "anthropic.ratelimit.retry_after": 0.01,
            "anthropic.diagnostic.retry_honoured": True,
            "anthropic.diagnostic.code": "rate_limited",
            "anthropic.diagnostic.message": text,
        }
    ]
    assert diagnostics.counts() == {"rate_limited": 1}
    assert diagnostics.warnings() == [f"anthropic-otel [rate_limited] route triage: {text}"]


def test_a_burst_of_429s_on_a_new_route_says_ramp_up_and_early_retries_are_named(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    api.queue(*(ErrorReply(429, retry_after=30, headers=HEADROOM) for _ in range(3)))
    client = make_client(sdk_tracing=sdk_tracing)
    with diagnostics.warnings_caught(), anthropic_otel.route("launch"):
        for _ in range(3):  # the application retries at once, ignoring retry-after
            with pytest.raises(anthropic.RateLimitError):
                create(client)

    assert len(diagnostics.exporter.get_finished_spans()) == 3
    common = {"http.response.status_code": 429, "anthropic.diagnostic.attempts": 1, **HEADROOM_ATTRIBUTES}
    first = f"1 attempt(s) answered 429 (rate limit); {FIX}"
    early = "1 attempt(s) answered 429 (rate limit), retried before retry-after had passed"
    ramp = "3 rate-limited attempts within a minute of this route's first call: ramp up gradually"
    assert diagnostics.events() == [
        {
            **common,
            "anthropic.ratelimit.retry_after": 30.0,
            "anthropic.diagnostic.code": "rate_limited",
            "anthropic.diagnostic.message": first,
        },
        {
            **common,
            "anthropic.ratelimit.retry_after": 30.0,
            "anthropic.diagnostic.retry_honoured": False,
            "anthropic.diagnostic.code": "rate_limited",
            "anthropic.diagnostic.message": f"{early}; {FIX}",
        },
        {
            **common,
            "anthropic.ratelimit.retry_after": 30.0,
            "anthropic.diagnostic.retry_honoured": False,
            "anthropic.diagnostic.ramp_up": True,
            "anthropic.diagnostic.code": "rate_limited",
            "anthropic.diagnostic.message": f"{early}, {ramp}; {FIX}",
        },
    ]
    assert diagnostics.counts() == {"rate_limited": 3}
    warnings = diagnostics.warnings()
    assert warnings == [f"anthropic-otel [rate_limited] route launch: {first}"]


def test_successes_and_other_errors_are_no_rate_limit(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    api.queue(MessageReply(text="fine"), ErrorReply(500), MessageReply(text="fine"), ErrorReply(400))
    client = make_client(sdk_tracing=sdk_tracing, max_retries=1)
    create(client)
    create(client)  # a 500 the SDK retries
    with pytest.raises(anthropic.BadRequestError):
        create(client)

    diagnostics.assert_none(spans=3)


def test_async_retried_429_is_reported(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool
) -> None:
    api.queue(ErrorReply(429, retry_after=0.01, headers=HEADROOM), MessageReply(text="ok"))
    client = make_client(async_=True, sdk_tracing=sdk_tracing, max_retries=1)
    asyncio.run(client.messages.create(model=MODEL, max_tokens=16, messages=user_message()))

    assert [event["anthropic.diagnostic.attempts"] for event in diagnostics.events()] == [1]
    assert diagnostics.counts() == {"rate_limited": 1}
