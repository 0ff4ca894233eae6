"""`OpenAICompatInstrumentor`: patches the `openai` SDK from `hooks.WRAP_TARGETS`, and undoes exactly that.

A separate instrumentor (and entry point, `anthropic_otel_openai`) from `AnthropicInstrumentor`,
so that each is switched on and off on its own and neither needs the other's SDK. Its telemetry
uses the scope `anthropic_otel.openai_compat`: the metric names are the same as for Messages API
calls (backends add the two scopes' points up), and no instrument is registered twice on one meter.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from anthropic_otel._config import OPENAI_COMPAT_HOSTS
from anthropic_otel._instrumentor import WRAPPER_TYPE, build_telemetry, unwrap_targets, wrap_targets
from anthropic_otel.openai_compat import _patches as hooks

__all__ = ["DEFAULT_HOSTS", "HOSTS_ENV", "OpenAICompatInstrumentor"]

log = logging.getLogger("anthropic_otel.openai_compat")

SCOPE = "anthropic_otel.openai_compat"
HOSTS_ENV = OPENAI_COMPAT_HOSTS.name
DEFAULT_HOSTS = ("api.anthropic.com",)
_instruments = ("openai >= 1.40",)


class OpenAICompatInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments `openai` chat completions sent to the Claude API (see the package docstring).

    `instrument(tracer_provider=None, meter_provider=None, logger_provider=None, prices=None,
    hosts=None)`: `hosts` (names, or one comma-separated string) and `ANTHROPIC_OTEL_OPENAI_COMPAT_HOSTS`
    add hosts that count as the Claude API (a proxy, a test server) to `api.anthropic.com`.
    `uninstrument()` restores every original method.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        try:
            importlib.import_module("openai")
        except ImportError:  # zero-code loads every entry point; without openai there is nothing to do
            log.debug("anthropic-otel: openai is not installed; the OpenAI compatibility instrumentor does nothing")
            return
        telemetry = build_telemetry(SCOPE, kwargs)
        hosts = hooks.hosts_from(DEFAULT_HOSTS, os.environ.get(HOSTS_ENV), kwargs.get("hosts"))
        hooks.set_state(hooks.State(telemetry, hosts))
        _warn_about_peers()
        wrap_targets(hooks.WRAP_TARGETS, log, "openai SDK")

    def _uninstrument(self, **kwargs: Any) -> None:
        hooks.set_state(None)
        unwrap_targets(hooks.WRAP_TARGETS, "openai SDK")


def _warn_about_peers() -> None:
    """Another instrumentation of `openai` (e.g. opentelemetry-instrumentation-openai-v2) makes a second span."""
    try:
        module = importlib.import_module("openai.resources.chat.completions")
        function = module.Completions.create
    except (AttributeError, ImportError):
        return
    if isinstance(function, WRAPPER_TYPE):
        owner = getattr(getattr(function, "_self_wrapper", None), "__module__", None) or type(function).__module__
        log.warning(
            "anthropic-otel: openai's chat.completions.create is already wrapped by %s; its spans will appear "
            "beside ours for calls to the Claude API. Disable one of them to get one span per call.",
            owner,
        )
