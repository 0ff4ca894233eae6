"""Settings from the environment: defaults, parsing, and what bad values fall back to."""

from __future__ import annotations

import logging

import pytest

from anthropic_otel.config import Settings


def test_defaults() -> None:
    assert Settings.from_environment({}) == Settings(max_routes=100, log_calls=False, prices_path=None)


def test_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_MAX_ROUTES", "3")
    monkeypatch.setenv("ANTHROPIC_OTEL_LOG_CALLS", "TRUE")
    monkeypatch.setenv("ANTHROPIC_OTEL_PRICES", "/etc/prices.toml")
    assert Settings.from_environment() == Settings(max_routes=3, log_calls=True, prices_path="/etc/prices.toml")


@pytest.mark.parametrize(
    ("environ", "expected", "warnings"),
    [
        ({"ANTHROPIC_OTEL_MAX_ROUTES": "lots"}, Settings(max_routes=100), 1),
        ({"ANTHROPIC_OTEL_MAX_ROUTES": "0"}, Settings(max_routes=1), 0),
        ({"ANTHROPIC_OTEL_LOG_CALLS": "perhaps"}, Settings(log_calls=False), 1),
        ({"ANTHROPIC_OTEL_LOG_CALLS": "off"}, Settings(log_calls=False), 0),
    ],
)
def test_bad_values_fall_back_with_a_warning_naming_the_variable(
    environ: dict[str, str], expected: Settings, warnings: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        assert Settings.from_environment(environ) == expected
    (name,) = environ
    assert len([record for record in caplog.records if name in record.message]) == warnings
