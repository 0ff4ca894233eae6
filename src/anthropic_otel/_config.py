"""Settings from the environment, read once when `instrument()` runs, and the one table of them.

Everything the instrumentation can be told without code is an environment variable, so that
zero-code users (`opentelemetry-instrument`) have the same switches as everyone else. They are
read once: per-call work must not parse the environment. `ENVIRONMENT` lists every variable
(name, default, meaning): `Settings` reads it, `anthropic-otel doctor` reports from it, and a test
holds the README's configuration table to it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from anthropic_otel._diagnostics.findings import CODES
from anthropic_otel._diagnostics.reporter import parse_selection

__all__ = ["CAPTURE_ENV", "CAPTURE_MODES", "ENVIRONMENT", "Settings", "Variable", "capture_mode", "setting_problems"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variable:
    """One environment variable the instrumentation reads: its name, default (as written), and meaning."""

    name: str
    default: str
    meaning: str


CAPTURE = Variable(
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "off",
    "`true` / `span_only`, `event_only`, `span_and_event`: record prompts and completions",
)
CONTENT_MAX_LENGTH = Variable(
    "ANTHROPIC_OTEL_CONTENT_MAX_LENGTH", "4096", "characters kept of each captured content value"
)
CONTENT_HOOK = Variable(
    "ANTHROPIC_OTEL_CONTENT_HOOK", "", "`module:function` of a redaction hook run before content is recorded"
)
PRICES = Variable(
    "ANTHROPIC_OTEL_PRICES", "", "a `.json` or `.toml` price file that overrides or extends the built-in prices"
)
MAX_ROUTES = Variable(
    "ANTHROPIC_OTEL_MAX_ROUTES", "100", "distinct `anthropic.route` values per process before later ones become `other`"
)
MAX_MODELS = Variable(
    "ANTHROPIC_OTEL_MAX_MODELS",
    "50",
    "distinct model names on metric points per process, besides the price table's model ids, "
    "before later ones become `other` (spans keep the name)",
)
USER_ID = Variable(
    "ANTHROPIC_OTEL_USER_ID",
    "true",
    "record the request's `metadata.user_id` as `user.id` on spans and call records (never on metrics); "
    "`false` leaves it out",
)
LOG_CALLS = Variable(
    "ANTHROPIC_OTEL_LOG_CALLS",
    "false",
    "also write each call's record as a JSON line to the `anthropic_otel.calls` logger",
)
OPENAI_COMPAT_HOSTS = Variable(
    "ANTHROPIC_OTEL_OPENAI_COMPAT_HOSTS",
    "",
    "hosts besides `api.anthropic.com` whose `openai` chat completions are recorded",
)
DIAGNOSTICS = Variable(
    "ANTHROPIC_OTEL_DIAGNOSTICS",
    "all",
    "the diagnostics reported: `all`, `none`, a comma list of codes, or `all,-code,...` to leave some out",
)
DIAGNOSTICS_WARN = Variable(
    "ANTHROPIC_OTEL_DIAGNOSTICS_WARN",
    "once",
    "log a warning per finding `once` per code and route, `always`, or `never` (the span event and counter are kept)",
)
# Read by OpenTelemetry and the SDK, not by us: listed because they switch us, or the SDK's span, off.
DISABLED = Variable(
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    "",
    "`anthropic_otel` turns this instrumentation off under `opentelemetry-instrument`",
)
SDK_TRACING = Variable(
    "ANTHROPIC_OPEN_TELEMETRY",
    "(SDK's)",
    "`false` switches the SDK's own tracing (1.14+) off; anthropic-otel then makes no span either, "
    "and records the metrics",
)

ENVIRONMENT: tuple[Variable, ...] = (
    DISABLED,
    PRICES,
    MAX_ROUTES,
    MAX_MODELS,
    LOG_CALLS,
    USER_ID,
    OPENAI_COMPAT_HOSTS,
    DIAGNOSTICS,
    DIAGNOSTICS_WARN,
    SDK_TRACING,
    CAPTURE,
    CONTENT_MAX_LENGTH,
    CONTENT_HOOK,
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

CAPTURE_ENV = CAPTURE.name
# The values opentelemetry-util-genai accepts (any case), and where each puts content: (span, event).
CAPTURE_MODES = {
    "no_content": (False, False),
    "span_only": (True, False),
    "event_only": (False, True),
    "span_and_event": (True, True),
}


_warned: set[tuple[str, str]] = set()


def _warn_once(name: str, raw: str, message: str, *args: object) -> None:
    """Log a warning about `name=raw` once per process: settings are read by every `instrument()`
    (and the `openai` instrumentor's), and the doctor reads them again."""
    if len(_warned) < 100 and (name, raw) not in _warned:
        _warned.add((name, raw))
        log.warning(message, *args)


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        _warn_once(name, raw, "anthropic-otel: %s=%r is not true or false; using %s", name, raw, default)
        return default
    return False


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        return max(int(raw), 1)
    except ValueError:
        _warn_once(name, raw, "anthropic-otel: %s=%r is not a whole number; using %d", name, raw, default)
        return default


def capture_mode(raw: Optional[str]) -> str:
    """The content capture mode a value of `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` asks for.

    Takes opentelemetry-util-genai's values (`no_content`, `span_only`, `event_only`,
    `span_and_event`, any case) and the boolean form older instrumentations read (`true` means
    `span_only`: spans are where the SDK's own capture puts content too). Anything else is off,
    with a warning: an unreadable privacy switch must not turn capture on.
    """
    if raw is None:
        return "no_content"
    value = raw.strip().lower()
    if value in CAPTURE_MODES:
        return value
    if value in _TRUE:
        return "span_only"
    if value not in _FALSE:
        _warn_once(
            CAPTURE_ENV,
            raw,
            "anthropic-otel: %s=%r is not one of true, false, %s; capturing no content",
            CAPTURE_ENV,
            raw,
            ", ".join(CAPTURE_MODES),
        )
    return "no_content"


@dataclass(frozen=True)
class Settings:
    """The instrumentation's switches. `Settings.from_environment()` reads them from `OTEL_*`-style variables.

    - `max_routes` (`ANTHROPIC_OTEL_MAX_ROUTES`, 100): distinct `anthropic.route` values per process
      before later ones are recorded as `other`;
    - `max_models` (`ANTHROPIC_OTEL_MAX_MODELS`, 50): distinct model names on metric points, besides
      the price table's model ids, before later ones are recorded as `other` (spans keep the name);
    - `log_calls` (`ANTHROPIC_OTEL_LOG_CALLS`, false): also write each call's record as one JSON
      line to the Python logger `anthropic_otel.calls`;
    - `record_user_id` (`ANTHROPIC_OTEL_USER_ID`, true): the request's `metadata.user_id` as `user.id`
      on spans and call records;
    - `prices_path` (`ANTHROPIC_OTEL_PRICES`): a `.json` or `.toml` file of prices that overrides
      or extends the built-in table;
    - `diagnostics` (`ANTHROPIC_OTEL_DIAGNOSTICS`, `all`): the diagnostic codes that are reported
      (`all`, `none`, or a comma list; `all,-code` leaves one out);
    - `diagnostics_warn` (`ANTHROPIC_OTEL_DIAGNOSTICS_WARN`, `once`): log a warning per finding
      `once` per code and route, `always`, or `never`.
    - `content_capture` (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, off): where prompt and
      completion content goes, one of `CAPTURE_MODES` (see `capture_mode`);
    - `content_max_length` (`ANTHROPIC_OTEL_CONTENT_MAX_LENGTH`, 4096): the most characters kept of
      each content value;
    - `content_hook` (`ANTHROPIC_OTEL_CONTENT_HOOK`): `module:function` of a redaction hook.
    """

    max_routes: int = 100
    max_models: int = 50
    log_calls: bool = False
    record_user_id: bool = True
    prices_path: Optional[str] = None
    diagnostics: frozenset[str] = field(default_factory=lambda: frozenset(CODES))
    diagnostics_warn: str = "once"
    content_capture: str = "no_content"
    content_max_length: int = 4096
    content_hook: Optional[str] = None

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            max_routes=_count(env, MAX_ROUTES.name, int(MAX_ROUTES.default)),
            max_models=_count(env, MAX_MODELS.name, int(MAX_MODELS.default)),
            log_calls=_flag(env, LOG_CALLS.name, False),
            record_user_id=_flag(env, USER_ID.name, True),
            prices_path=(env.get(PRICES.name) or "").strip() or None,
            diagnostics=_diagnostics(env),
            diagnostics_warn=_choice(env, DIAGNOSTICS_WARN.name, ("once", "always", "never")),
            content_capture=capture_mode(env.get(CAPTURE.name)),
            content_max_length=_count(env, CONTENT_MAX_LENGTH.name, int(CONTENT_MAX_LENGTH.default)),
            content_hook=(env.get(CONTENT_HOOK.name) or "").strip() or None,
        )


def _diagnostics(environ: Mapping[str, str]) -> frozenset[str]:
    enabled, unknown = parse_selection(environ.get(DIAGNOSTICS.name))
    if unknown:
        _warn_once(
            DIAGNOSTICS.name,
            environ.get(DIAGNOSTICS.name) or "",
            "anthropic-otel: %s names unknown codes %s; known: all, none, %s",
            DIAGNOSTICS.name,
            ", ".join(unknown),
            ", ".join(sorted(CODES)),
        )
    return enabled


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """A value out of `choices`; the first is the default, used (with a warning) for anything else."""
    raw = environ.get(name)
    if raw is None:
        return choices[0]
    value = raw.strip().lower()
    if value not in choices:
        _warn_once(
            name, raw, "anthropic-otel: %s=%r is not one of %s; using %s", name, raw, "|".join(choices), choices[0]
        )
        return choices[0]
    return value


_FLAGS = (LOG_CALLS.name, USER_ID.name)
_COUNTS = (MAX_ROUTES.name, MAX_MODELS.name, CONTENT_MAX_LENGTH.name)


def setting_problems(environ: Optional[Mapping[str, str]] = None) -> list[tuple[str, str, str]]:
    """Every variable of ours set to a value it does not take: (name, value, what it takes), without
    logging. `Settings` uses the default for each, with one warning; the doctor lists them."""
    env = os.environ if environ is None else environ
    problems = []
    for name in _FLAGS:
        raw = env.get(name)
        if raw is not None and raw.strip().lower() not in _TRUE | _FALSE:
            problems.append((name, raw, "true or false"))
    for name in _COUNTS:
        raw = env.get(name)
        if raw is not None and not raw.strip().lstrip("-").isdigit():
            problems.append((name, raw, "a whole number"))
    raw = env.get(CAPTURE.name)
    if raw is not None and raw.strip().lower() not in {*CAPTURE_MODES, *_TRUE, *_FALSE}:
        problems.append((CAPTURE.name, raw, f"true, false or one of {', '.join(CAPTURE_MODES)}"))
    raw = env.get(DIAGNOSTICS_WARN.name)
    if raw is not None and raw.strip().lower() not in ("once", "always", "never"):
        problems.append((DIAGNOSTICS_WARN.name, raw, "once, always or never"))
    return problems
