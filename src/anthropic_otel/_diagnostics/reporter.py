"""Where a finding goes: a span event, a counter point and (once per code and route) a warning.

The span event `anthropic.diagnostic` puts the finding beside the call it is about, for whoever
looks at the trace; the counter `anthropic.client.diagnostics` (by code and route) makes it
alertable; the Python warning reaches people who look at neither. Warnings are rate-limited to
once per code and route per process by default, since a misconfigured route repeats its mistake
on every call; the set that remembers them is bounded like routes are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from opentelemetry.trace import Span

from anthropic_otel._diagnostics.findings import CODES, Finding
from anthropic_otel._read.attributes import AttributeValue

__all__ = ["EVENT_NAME", "Reporter", "parse_selection"]

log = logging.getLogger("anthropic_otel.diagnostics")

EVENT_NAME = "anthropic.diagnostic"
# Past this many (code, route) pairs warned about, further ones are counted but not logged.
_MAX_WARNED = 1000
# What a counter point carries besides the code: nothing per call, nothing unbounded (the model name
# passes the model limiter, as on every metric point).
_COUNTER_KEYS = ("gen_ai.provider.name", "anthropic.route")
_MODEL = "gen_ai.request.model"


def parse_selection(raw: Optional[str]) -> tuple[frozenset[str], list[str]]:
    """The codes `ANTHROPIC_OTEL_DIAGNOSTICS` switches on (`all`, `none`, or `code,code`), and unknown names.

    `-code` entries switch single codes off from `all` (`all,-history_dropped`).
    """
    if raw is None or not raw.strip():
        return frozenset(CODES), []
    enabled: set[str] = set()
    unknown: list[str] = []
    for entry in (part.strip() for part in raw.split(",")):
        name = entry.lstrip("-").strip()
        if not name:
            continue
        if name == "all":
            enabled = set(CODES) if not entry.startswith("-") else set()
        elif name == "none":
            enabled = set()
        elif name not in CODES:
            unknown.append(name)
        elif entry.startswith("-"):
            enabled.discard(name)
        else:
            enabled.add(name)
    return frozenset(enabled), unknown


class Reporter:
    """Reports findings of the enabled codes. One per `instrument()`; never raises into a call."""

    __slots__ = ("counter", "enabled", "models", "warn", "warned")

    def __init__(self, counter: Any, enabled: Iterable[str], warn: str = "once", models: Any = None) -> None:
        self.counter = counter
        self.enabled = frozenset(enabled)
        self.warn = warn
        self.models = models  # the model limiter (`cardinality.ValueLimiter`); None: no model on the counter
        self.warned: set[tuple[str, str]] = set()

    def wants(self, code: str) -> bool:
        """Whether `code` is switched on: detectors ask before doing any work."""
        return code in self.enabled

    def report(
        self,
        findings: Iterable[Finding],
        span: Optional[Span],
        scope: Mapping[str, AttributeValue],
        context: Any = None,
    ) -> None:
        """Record `findings` of one call: on `span` if it still records, on the counter, in the log."""
        for finding in findings:
            if finding.code not in self.enabled:
                continue
            try:
                self._report(finding, span, scope, context)
            except Exception:
                log.debug("anthropic-otel: could not report diagnostic %s", finding.code, exc_info=True)

    def _report(
        self, finding: Finding, span: Optional[Span], scope: Mapping[str, AttributeValue], context: Any
    ) -> None:
        if span is not None and span.is_recording():
            span.add_event(
                EVENT_NAME,
                {
                    **finding.attributes,
                    "anthropic.diagnostic.code": finding.code,
                    "anthropic.diagnostic.message": finding.message,
                },
            )
        points = {key: scope[key] for key in _COUNTER_KEYS if key in scope}
        model = scope.get(_MODEL)
        if isinstance(model, str) and self.models is not None:
            points[_MODEL] = self.models.admit(model)
        self.counter.add(1, {**points, "anthropic.diagnostic.code": finding.code}, context=context)
        route = str(scope.get("anthropic.route", ""))
        if self.warn == "never":
            return
        if self.warn == "once":
            key = (finding.code, route)
            if key in self.warned or len(self.warned) >= _MAX_WARNED:
                return
            self.warned.add(key)
        log.warning("anthropic-otel [%s]%s: %s", finding.code, f" route {route}" if route else "", finding.message)
