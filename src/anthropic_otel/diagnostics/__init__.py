"""Diagnostics: recognisable failure signatures of Claude integrations, detected in flight.

Each call is looked at twice: when its request is known (`on_request`, before it is sent) and
when its outcome is (`on_outcome`, once, from whichever end of the call comes first: the SDK's
span about to end, a stream's final delta, or the call's completion). What is found goes to the
call's span as an `anthropic.diagnostic` event, to the `anthropic.client.diagnostics` counter and
to the log (`reporter`). Detectors are cheap and bounded; a detector that fails reports nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional

from opentelemetry.trace import Span

from anthropic_otel.attributes import field
from anthropic_otel.diagnostics.findings import CODES, Code, Finding
from anthropic_otel.diagnostics.reporter import EVENT_NAME, Reporter, parse_selection

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

__all__ = ["CODES", "EVENT_NAME", "Code", "Diagnostics", "Finding", "Reporter", "parse_selection"]

log = logging.getLogger(__name__)


class Diagnostics:
    """The detectors of one `instrument()`, and the reporter their findings go to."""

    __slots__ = ("reporter",)

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def on_request(self, record: CallRecord) -> None:
        """Look at a call's request before it is sent; findings wait on the record for its outcome."""
        if not self.reporter.enabled or not record.operation.is_generation:
            return
        try:
            record.findings.extend(self._request_findings(record))
        except Exception:
            log.debug("anthropic-otel: a request diagnostic failed", exc_info=True)

    def on_outcome(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any, span: Optional[Span]
    ) -> None:
        """Look at a call's outcome, once, and report everything found about the call.

        `span` is the span still open for the call (ours, or the SDK's before it ends), or None
        when it has ended or there is none: the finding is then counted and logged only.
        """
        if record.diagnosed:
            return
        record.diagnosed = True
        if not self.reporter.enabled:
            return
        findings = record.findings
        try:
            if record.operation.is_generation:
                findings.extend(self._outcome_findings(record, body, error, response))
        except Exception:
            log.debug("anthropic-otel: an outcome diagnostic failed", exc_info=True)
        if findings:
            self.reporter.report(findings, span, record.attributes, record.context)

    def _request_findings(self, record: CallRecord) -> list[Finding]:
        return []

    def _outcome_findings(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        findings: list[Finding] = []
        if self.reporter.wants("max_tokens_reached") and field(body, "stop_reason") == "max_tokens":
            limit = field(record.request, "max_tokens")
            findings.append(
                Finding(
                    "max_tokens_reached",
                    f"the answer was cut off at max_tokens={limit}: {CODES['max_tokens_reached'].fix}",
                    {"gen_ai.request.max_tokens": limit} if isinstance(limit, int) else {},
                )
            )
        return findings
