"""`beta_header_unknown`: a misspelt beta name is reported with the closest known one; known names are not."""

from __future__ import annotations

from typing import Any

import pytest

from anthropic_otel.diagnostics import CODES
from anthropic_otel.diagnostics.beta_headers import known_betas
from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import SDK_PATHS, ClientFactory, Diagnostics, user_message

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


@pytest.mark.parametrize("sdk_tracing", SDK_PATHS)
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


@pytest.mark.parametrize("sdk_tracing", SDK_PATHS)
@pytest.mark.parametrize("how", ["betas", "header"])
def test_a_known_beta_is_no_diagnostic(
    api: FakeClaudeAPI, make_client: ClientFactory, diagnostics: Diagnostics, sdk_tracing: bool, how: str
) -> None:
    send(make_client(sdk_tracing=sdk_tracing), how, KNOWN)

    diagnostics.assert_none(spans=1)
