"""`beta_header_unknown`: a misspelt beta name is reported with the closest known one; known names are not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anthropic
import pydantic
import pytest

from anthropic_otel._diagnostics import CODES
from anthropic_otel._diagnostics.beta_headers import known_betas, unknown_betas
from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import ClientFactory, Diagnostics, user_message

MODEL = "claude-haiku-4-5"

pytestmark = pytest.mark.usefixtures("instrument")

TYPO = "prompt-cacheing-2024-07-31"
KNOWN = "prompt-caching-2024-07-31"


def send(client: Any, how: str, beta: str) -> None:
    if how == "betas":
        client.beta.messages.create(model=MODEL, max_tokens=16, messages=user_message(), betas=[beta])
    else:
        client.messages.create(
            model=MODEL, max_tokens=16, messages=user_message(), extra_headers={"anthropic-beta": beta}
        )


def test_the_known_names_come_from_the_installed_sdk() -> None:
    assert KNOWN in known_betas()
    assert TYPO not in known_betas()


@pytest.mark.parametrize("how", ["betas", "header"])
def test_an_unknown_beta_is_reported_with_the_closest_known_name(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, how: str
) -> None:
    with diagnostics.warnings_caught():
        send(make_client(sdk_tracing=sdk_tracing), how, TYPO)

    assert len(diagnostics.exporter.get_finished_spans()) == 1
    message = (
        f"anthropic-beta {TYPO!r} is not a beta the installed SDK knows (did you mean {KNOWN!r}?): "
        f"{CODES['beta_header_unknown'].fix}"
    )
    assert diagnostics.events() == [
        {
            "anthropic.diagnostic.beta": TYPO,
            "anthropic.diagnostic.suggestion": KNOWN,
            "anthropic.diagnostic.code": "beta_header_unknown",
            "anthropic.diagnostic.message": message,
        }
    ]
    assert diagnostics.counts() == {"beta_header_unknown": 1}
    assert diagnostics.warnings() == [f"anthropic-otel [beta_header_unknown]: {message}"]


@pytest.mark.parametrize("how", ["betas", "header"])
def test_a_known_beta_is_no_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, how: str
) -> None:
    send(make_client(sdk_tracing=sdk_tracing), how, KNOWN)

    diagnostics.assert_none(spans=1)


def test_betas_the_sdk_sends_itself_are_known() -> None:
    """A beta the SDK's own code adds (a helper's, a credential's) is not the user's to fix."""
    sdk_root = Path(anthropic.__file__).parent
    written = {
        name
        for folder in ("resources/beta", "lib")
        for path in (sdk_root / folder).rglob("*.py")
        for name in re.findall(r"[\"']([a-z0-9]+(?:-[a-z0-9]+)*-20\d\d-\d\d-\d\d)[\"']", path.read_text("utf-8"))
    }
    assert written - known_betas(), "this SDK lists every beta it sends: nothing to check"
    assert unknown_betas(sorted(written)) == []


@pytest.mark.only_if(hasattr(anthropic.resources.beta.messages.Messages, "parse"), reason="beta parse: SDK 0.73+")
def test_the_beta_parse_helper_sends_no_unknown_beta(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics
) -> None:
    api.queue(MessageReply(text='{"priority": "high"}'))
    client = make_client()
    client.beta.messages.parse(model=MODEL, max_tokens=16, messages=user_message(), output_format=Ticket)
    diagnostics.assert_none(spans=1)


class Ticket(pydantic.BaseModel):
    priority: str
