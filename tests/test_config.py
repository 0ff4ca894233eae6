"""Settings from the environment: defaults, parsing, and what bad values fall back to."""

from __future__ import annotations

import logging

import pytest

from anthropic_otel._config import Settings, capture_mode


def test_defaults() -> None:
    assert Settings.from_environment({}) == Settings(max_routes=100, log_calls=False, prices_path=None)
    assert Settings.from_environment({}) == Settings(
        content_capture="no_content", content_max_length=4096, content_hook=None
    )


def test_content_settings_are_read() -> None:
    environ = {
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "Span_And_Event",
        "ANTHROPIC_OTEL_CONTENT_MAX_LENGTH": "512",
        "ANTHROPIC_OTEL_CONTENT_HOOK": " app.telemetry:redact ",
    }
    assert Settings.from_environment(environ) == Settings(
        content_capture="span_and_event", content_max_length=512, content_hook="app.telemetry:redact"
    )


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (None, "no_content"),
        ("", "no_content"),
        ("false", "no_content"),
        ("NO_CONTENT", "no_content"),
        ("true", "span_only"),
        ("True", "span_only"),
        ("1", "span_only"),
        ("span_only", "span_only"),
        ("EVENT_ONLY", "event_only"),
        (" span_and_event ", "span_and_event"),
    ],
)
def test_capture_mode_takes_util_genai_values_and_booleans(value: str, mode: str) -> None:
    assert capture_mode(value) == mode


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
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "everything"}, Settings(), 1),
        ({"ANTHROPIC_OTEL_CONTENT_MAX_LENGTH": "4k"}, Settings(content_max_length=4096), 1),
    ],
)
def test_bad_values_fall_back_with_a_warning_naming_the_variable(
    environ: dict[str, str], expected: Settings, warnings: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        assert Settings.from_environment(environ) == expected
    (name,) = environ
    assert len([record for record in caplog.records if name in record.message]) == warnings
