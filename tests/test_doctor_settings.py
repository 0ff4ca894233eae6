"""The doctor on the instrumentation's own settings: a value a variable does not take is a warning,
with what it takes; and each warning about such a value is logged once per process, not once per
reader (every `instrument()`, the `openai` instrumentor's, the doctor itself)."""

from __future__ import annotations

import sys
from pathlib import Path

from anthropic_otel._config import setting_problems
from tests.test_cli import Doctor, doctor, doctor_process, lines

__all__ = ["doctor"]  # the fixture, imported from test_cli

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def test_an_invalid_content_capture_value_is_a_warning_not_ok(doctor: Doctor) -> None:
    code, found = doctor("--strict", **{CAPTURE: "yes please"})
    assert f"warn content capture {CAPTURE}='yes please' is not a value it takes: capturing no content" in found
    assert not any(line.startswith("ok content capture") for line in found)
    assert code == 1  # --strict: a warning fails


def test_settings_with_values_they_do_not_take(doctor: Doctor) -> None:
    _, found = doctor(
        ANTHROPIC_OTEL_MAX_MODELS="lots", ANTHROPIC_OTEL_DIAGNOSTICS_WARN="sometimes", ANTHROPIC_OTEL_USER_ID="nope"
    )
    assert [line for line in found if line.startswith("warn settings")] == [
        "warn settings ANTHROPIC_OTEL_USER_ID='nope' is not a value it takes: the default applies",
        "warn settings ANTHROPIC_OTEL_MAX_MODELS='lots' is not a value it takes: the default applies",
        "warn settings ANTHROPIC_OTEL_DIAGNOSTICS_WARN='sometimes' is not a value it takes: the default applies",
    ]
    assert "→ use once, always or never" in found
    _, clean = doctor(ANTHROPIC_OTEL_MAX_MODELS="20", ANTHROPIC_OTEL_LOG_CALLS="TRUE", **{CAPTURE: "span_only"})
    assert not any(line.startswith("warn settings") for line in clean)


def test_each_warning_is_logged_once_under_opentelemetry_instrument() -> None:
    """Both instrumentors read the settings when `opentelemetry-instrument` loads them, and the doctor
    reads them again: three readings, one warning each."""
    instrument = str(Path(sys.executable).with_name("opentelemetry-instrument"))
    exporters = ("--traces_exporter", "none", "--metrics_exporter", "none", "--logs_exporter", "none")
    command = (instrument, *exporters, sys.executable, "-m", "anthropic_otel.cli", "doctor")
    result = doctor_process(*command, ANTHROPIC_OTEL_DIAGNOSTICS="all,-nope", **{CAPTURE: "bogus"})
    warnings = [line for line in lines(result.stderr) if line.startswith("anthropic-otel:")]
    assert len(warnings) == 2, warnings
    assert sum(CAPTURE in line for line in warnings) == 1
    assert sum("unknown codes nope" in line for line in warnings) == 1


def test_setting_problems_reads_without_logging() -> None:
    assert setting_problems({"ANTHROPIC_OTEL_MAX_ROUTES": "-3", CAPTURE: "EVENT_ONLY"}) == []
    assert setting_problems({"ANTHROPIC_OTEL_LOG_CALLS": "maybe"}) == [
        ("ANTHROPIC_OTEL_LOG_CALLS", "maybe", "true or false")
    ]
