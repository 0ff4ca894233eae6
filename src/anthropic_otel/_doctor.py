"""`anthropic-otel doctor`: what a user needs to know when no Claude telemetry shows up.

Each check is one line with a level (`ok`, `info`, `warn`, `FAIL`) and, where something can be
done, the fix on the line below. It reads only this process: the installed SDK and whether it
traces by itself, our entry point and whether the instrumentation is active, the global
providers and their exporters, the OTLP endpoint (the configured one, or the default one the
exporters would use; probed with a 1-second timeout), the switches that disable us, whether
message content is captured, which diagnostics are on, and settings given values they do not
take. Run it the way the app runs (`opentelemetry-instrument anthropic-otel doctor` for zero-code
set-ups) to see the app's view.
It needs only the OpenTelemetry API: no SDK, exporter or anthropic import is required, and it
never raises (a check that cannot run is reported as a finding).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from opentelemetry import trace
from rich.console import Console
from rich.markup import escape

from anthropic_otel import AnthropicInstrumentor, __version__
from anthropic_otel._config import (
    CAPTURE,
    CAPTURE_MODES,
    CONTENT_HOOK,
    CONTENT_MAX_LENGTH,
    DIAGNOSTICS,
    DIAGNOSTICS_WARN,
    capture_mode,
    setting_problems,
)
from anthropic_otel._diagnostics import CODES, parse_selection
from anthropic_otel._doctor_export import DEFAULT_ENDPOINTS, Check, is_real, otlp_checks, provider_checks
from anthropic_otel._sdk import sdk_has_tracing

__all__ = ["DEFAULT_ENDPOINTS", "ENTRY_POINT", "Check", "checks", "run"]

ENTRY_POINT = "anthropic_otel"
ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
CONTENT_ENV = CAPTURE.name
DIAGNOSTICS_ENV = DIAGNOSTICS.name
DIAGNOSTICS_WARN_ENV = DIAGNOSTICS_WARN.name
_STYLES = {
    "ok": "[green]ok  [/green]",
    "info": "[blue]info[/blue]",
    "warn": "[yellow]warn[/yellow]",
    "fail": "[red]FAIL[/red]",
}


def _on(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def sdk_checks() -> list[Check]:
    try:
        version = importlib.metadata.version("anthropic")
    except importlib.metadata.PackageNotFoundError:
        return [Check("fail", "anthropic SDK", "not installed: nothing to instrument", "pip install anthropic")]
    found = [Check("ok", "anthropic SDK", f"anthropic {version} is installed")]
    if not sdk_has_tracing():
        message = "this SDK makes no spans by itself (< 1.14): anthropic-otel makes them"
    elif os.environ.get("ANTHROPIC_OPEN_TELEMETRY", "").lower() == "false":
        message = (
            "the SDK's own tracing is off (ANTHROPIC_OPEN_TELEMETRY=false): no call is traced, "
            "anthropic-otel records metrics and call records only"
        )
        found.append(Check("warn", "SDK tracing", message, "unset ANTHROPIC_OPEN_TELEMETRY to trace calls"))
        return found
    elif is_real(trace.get_tracer_provider()):
        message = (
            "on: the SDK (1.14+) makes each call's span with the global tracer provider; anthropic-otel enriches it"
        )
    else:
        message = (
            "this SDK can trace by itself (1.14+), but with no global tracer provider it does not; "
            "anthropic-otel makes the spans with the provider given to instrument()"
        )
    found.append(Check("info", "SDK tracing", message))
    return found


def _entry_point_names() -> list[str]:
    points: Any = importlib.metadata.entry_points()
    selected = (
        points.select(group=ENTRY_POINT_GROUP) if hasattr(points, "select") else points.get(ENTRY_POINT_GROUP, ())
    )
    return [point.name for point in selected]


def instrumentor_checks() -> Iterator[Check]:
    if ENTRY_POINT in _entry_point_names():
        message = f"'{ENTRY_POINT}' is registered (anthropic-otel {__version__}): opentelemetry-instrument finds it"
        yield Check("ok", "entry point", message)
    else:
        hint = "reinstall the package: pip install --force-reinstall anthropic-otel"
        yield Check("fail", "entry point", f"'{ENTRY_POINT}' is not registered in group {ENTRY_POINT_GROUP}", hint)
    if AnthropicInstrumentor().is_instrumented_by_opentelemetry:
        yield Check("ok", "instrumentation", "active in this process")
    else:
        hint = (
            "run the app with `opentelemetry-instrument python app.py`, or call AnthropicInstrumentor().instrument() "
            "at start-up; `opentelemetry-instrument anthropic-otel doctor` checks a zero-code set-up"
        )
        yield Check("warn", "instrumentation", "not active in this process", hint)
    variable = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
    disabled = [name.strip() for name in os.environ.get(variable, "").split(",")]
    if ENTRY_POINT in disabled:
        message = f"{variable} names '{ENTRY_POINT}': zero-code skips us"
        yield Check("fail", "disabled", message, f"remove '{ENTRY_POINT}' from it")
    elif "anthropic" in disabled:
        message = f"{variable} names 'anthropic', another package's entry point; ours is '{ENTRY_POINT}'"
        yield Check("info", "disabled", message)
    if _on(os.environ.get("OTEL_SDK_DISABLED")):
        message = "OTEL_SDK_DISABLED=true: the OpenTelemetry SDK records nothing"
        yield Check("fail", "disabled", message, "unset OTEL_SDK_DISABLED")


def setting_checks() -> Iterator[Check]:
    """Each of our variables set to a value it does not take (the instrumentation uses its default, and
    logs one warning, which a user looking at the doctor would otherwise miss)."""
    for name, raw, takes in setting_problems():
        if name == CONTENT_ENV:
            continue  # the content capture check says it, with what capture then does
        yield Check("warn", "settings", f"{name}={raw!r} is not a value it takes: the default applies", f"use {takes}")


def content_checks() -> Iterator[Check]:
    value = os.environ.get(CONTENT_ENV)
    if any(name == CONTENT_ENV for name, _, _ in setting_problems()):
        hint = f"set it to one of true, false, {', '.join(CAPTURE_MODES)}; or unset it"
        message = f"{CONTENT_ENV}={value!r} is not a value it takes: capturing no content"
        yield Check("warn", "content capture", message, hint)
        return
    mode = capture_mode(value)
    sdk_content = os.environ.get("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "").lower() == "content"
    if mode != "no_content":
        where = {"span_only": "spans", "event_only": "events", "span_and_event": "spans and events"}[mode]
        limit = os.environ.get(CONTENT_MAX_LENGTH.name) or CONTENT_MAX_LENGTH.default
        hook = os.environ.get(CONTENT_HOOK.name)
        message = (
            f"on ({CONTENT_ENV}={value}): prompts and replies go into {where} and may hold personal data; "
            f"values cut at {limit} characters, " + (f"redacted by {hook}" if hook else "no redaction hook")
        )
        yield Check("info", "content capture", message, f"unset {CONTENT_ENV} unless your backend may store them")
        if sdk_content:
            message = "the SDK's own content capture is on too: its copy (no limit, no hook) is the one on its spans"
            yield Check("warn", "content capture", message, "unset ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE")
        return
    setting = f"={value}" if value else " not set"
    yield Check("ok", "content capture", f"off ({CONTENT_ENV}{setting}): no prompt or reply text is recorded")
    if sdk_content:
        message = "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content: the SDK's own spans carry message content"
        yield Check("info", "content capture", message)


def diagnostics_checks() -> Iterator[Check]:
    """Which diagnostic codes `ANTHROPIC_OTEL_DIAGNOSTICS` switches on, and how findings are logged."""
    raw = os.environ.get(DIAGNOSTICS_ENV)
    enabled, unknown = parse_selection(raw)
    setting = f"{DIAGNOSTICS_ENV}={raw}" if raw else f"{DIAGNOSTICS_ENV} not set"
    warn = (os.environ.get(DIAGNOSTICS_WARN_ENV) or "once").strip().lower()
    logged = {"once": "warned once per code and route", "always": "warned every time", "never": "not logged"}
    if unknown:
        hint = f"known codes: {', '.join(CODES)} (or all, none, all,-code)"
        yield Check("warn", "diagnostics", f"{DIAGNOSTICS_ENV} names unknown codes: {', '.join(unknown)}", hint)
    if not enabled:
        yield Check("info", "diagnostics", f"all off ({setting}): no anthropic.diagnostic events, counter or warnings")
        return
    on = [code for code in CODES if code in enabled]
    off = [code for code in CODES if code not in enabled]
    scope = f"all {len(on)} on"
    if off:
        scope = f"{len(on)} of {len(CODES)} on: {', '.join(on)}; off: {', '.join(off)}"
    yield Check("ok", "diagnostics", f"{scope} ({setting}); findings {logged.get(warn, logged['once'])}")


GROUPS: tuple[tuple[str, Callable[[], Iterable[Check]]], ...] = (
    ("anthropic SDK", sdk_checks),
    ("instrumentation", instrumentor_checks),
    ("providers", provider_checks),
    ("OTLP", otlp_checks),
    ("settings", setting_checks),
    ("content capture", content_checks),
    ("diagnostics", diagnostics_checks),
)


def checks() -> list[Check]:
    """Every check, in the order they are printed. Never raises: the doctor is what users run when
    something is already wrong, so a group of checks that fails becomes one finding of its own."""
    found: list[Check] = []
    for topic, group in GROUPS:
        try:
            found.extend(group())
        except Exception as error:  # e.g. a half-installed package that fails to import
            message = f"could not be checked: {type(error).__name__}: {error}"
            found.append(Check("warn", topic, message, "please report this with the output of pip list"))
    return found


def render(console: Console, found: Iterable[Check]) -> None:
    for check in found:
        console.print(f"{_STYLES[check.level]} {check.topic:<16} {escape(check.message)}", soft_wrap=True)
        if check.hint:
            console.print(f"     {'':<16} → {escape(check.hint)}", soft_wrap=True, style="dim")


def run(console: Console, strict: bool = False) -> int:
    """Print every check; the exit code is 0, or with `strict` 1 when any warns or fails."""
    found = checks()
    console.print("[bold]anthropic-otel doctor[/bold]: what this process would record, and where it would go")
    render(console, found)
    counts = {level: sum(check.level == level for check in found) for level in ("ok", "info", "warn", "fail")}
    console.print(f"{counts['ok']} ok, {counts['info']} info, {counts['warn']} warnings, {counts['fail']} problems")
    return 1 if strict and (counts["warn"] or counts["fail"]) else 0
