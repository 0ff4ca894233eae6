"""Settings from the environment, read once when `instrument()` runs.

Everything the instrumentation can be told without code is an environment variable, so that
zero-code users (`opentelemetry-instrument`) have the same switches as everyone else. They are
read once: per-call work must not parse the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

__all__ = ["Settings"]

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        log.warning("anthropic-otel: %s=%r is not true or false; using %s", name, raw, default)
        return default
    return False


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        return max(int(raw), 1)
    except ValueError:
        log.warning("anthropic-otel: %s=%r is not a whole number; using %d", name, raw, default)
        return default


@dataclass(frozen=True)
class Settings:
    """The instrumentation's switches. `Settings.from_environment()` reads them from `OTEL_*`-style variables.

    - `max_routes` (`ANTHROPIC_OTEL_MAX_ROUTES`, 100): distinct `anthropic.route` values per process
      before later ones are recorded as `other`;
    - `max_models` (`ANTHROPIC_OTEL_MAX_MODELS`, 50): distinct model names on metric points, besides
      the price table's model ids, before later ones are recorded as `other` (spans keep the name);
    - `log_calls` (`ANTHROPIC_OTEL_LOG_CALLS`, false): also write each call's record as one JSON
      line to the Python logger `anthropic_otel.calls`;
    - `prices_path` (`ANTHROPIC_OTEL_PRICES`): a `.json` or `.toml` file of prices that overrides
      or extends the built-in table.
    """

    max_routes: int = 100
    max_models: int = 50
    log_calls: bool = False
    prices_path: Optional[str] = None

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            max_routes=_count(env, "ANTHROPIC_OTEL_MAX_ROUTES", 100),
            max_models=_count(env, "ANTHROPIC_OTEL_MAX_MODELS", 50),
            log_calls=_flag(env, "ANTHROPIC_OTEL_LOG_CALLS", False),
            prices_path=env.get("ANTHROPIC_OTEL_PRICES") or None,
        )
