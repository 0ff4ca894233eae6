"""Diagnostics: recognisable failure signatures of Claude integrations, detected in flight.

Each call is looked at twice: when its request is known (`on_request`, before it is sent) and
when its outcome is (`on_outcome`, once, from whichever end of the call comes first: the SDK's
span about to end, a stream's final delta, or the call's completion). Retried attempts are
reported in between (`on_retry`, `on_attempt`). What is found goes to the call's span as an
`anthropic.diagnostic` event, to the `anthropic.client.diagnostics` counter and to the log
(`reporter`). Each detector lives in its own module; this class only asks the switched-on ones.
Detectors are cheap and bounded; a detector that fails reports nothing, and the call goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional

from opentelemetry.trace import Span

from anthropic_otel.attributes import field
from anthropic_otel.diagnostics.beta_headers import unknown_betas
from anthropic_otel.diagnostics.conversations import ConversationWatch, missing_tool_result_error
from anthropic_otel.diagnostics.findings import CODES, Code, Finding
from anthropic_otel.diagnostics.prompt_cache import CacheWatch, prompt_prefix
from anthropic_otel.diagnostics.rate_limits import FailedAttempt, RateLimitWatch, failed_attempt
from anthropic_otel.diagnostics.reporter import EVENT_NAME, Reporter, parse_selection

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

__all__ = [
    "CODES",
    "EVENT_NAME",
    "Code",
    "Diagnostics",
    "FailedAttempt",
    "Finding",
    "Reporter",
    "parse_selection",
]

log = logging.getLogger(__name__)


class Diagnostics:
    """The detectors of one `instrument()`, their bounded state, and the reporter their findings go to."""

    __slots__ = ("cache", "conversations", "rate_limits", "reporter")

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.cache = CacheWatch()
        self.conversations = ConversationWatch()
        self.rate_limits = RateLimitWatch()

    def on_request(self, record: CallRecord) -> None:
        """Look at a call's request before it is sent; findings wait on the record for its outcome."""
        if not self.reporter.enabled or not record.operation.is_generation:
            return
        try:
            wants = self.reporter.wants
            if wants("beta_header_unknown"):
                betas = record.attributes.get("anthropic.beta")
                if isinstance(betas, (list, tuple)):
                    record.findings.extend(unknown_betas(str(beta) for beta in betas))
            if wants("rate_limited"):
                record.sent_early = self.rate_limits.started(_route(record))
        except Exception:
            log.debug("anthropic-otel: a request diagnostic failed", exc_info=True)

    def on_retry(self, record: CallRecord, response: Any) -> None:
        """The SDK is about to retry an attempt that got `response`."""
        if not self.reporter.wants("rate_limited"):
            return
        try:
            attempt = failed_attempt(response, self.rate_limits.now())
            if attempt is not None:
                record.failed_attempts.append(attempt)
        except Exception:
            log.debug("anthropic-otel: a retry diagnostic failed", exc_info=True)

    def on_attempt(self, record: CallRecord) -> None:
        """The SDK sends another attempt of the call: the previous failure waited until now."""
        if record.failed_attempts:
            RateLimitWatch.attempt_sent(record.failed_attempts, self.rate_limits.now())

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
        if record.operation.is_generation:
            for detector in (self._max_tokens, self._rate_limited, self._prompt_cache, self._conversation):
                try:
                    findings.extend(detector(record, body, error, response))
                except Exception:
                    log.debug("anthropic-otel: an outcome diagnostic failed", exc_info=True)
        if findings:
            self.reporter.report(findings, span, record.attributes, record.context)

    def _max_tokens(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        if not self.reporter.wants("max_tokens_reached") or field(body, "stop_reason") != "max_tokens":
            return []
        limit = field(record.request, "max_tokens")
        return [
            Finding(
                "max_tokens_reached",
                f"the answer was cut off at max_tokens={limit}: {CODES['max_tokens_reached'].fix}",
                {"gen_ai.request.max_tokens": limit} if isinstance(limit, int) else {},
            )
        ]

    def _rate_limited(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        if not self.reporter.wants("rate_limited"):
            return []
        attempts = list(record.failed_attempts)
        if error is not None and response is not None and not any(a.source is response for a in attempts):
            final = failed_attempt(response, self.rate_limits.now())
            if final is not None:
                attempts.append(final)
        finding = self.rate_limits.outcome(_route(record), attempts, record.sent_early, error is None)
        return [finding] if finding is not None else []

    def _prompt_cache(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        changed, not_written = self.reporter.wants("cache_prefix_changed"), self.reporter.wants("cache_not_written")
        usage = field(body, "usage")
        if not (changed or not_written) or usage is None:
            return []
        prefix = prompt_prefix(record.request)
        if prefix is None:
            return []
        key = (_route(record), str(record.attributes.get("gen_ai.request.model", "")))
        return self.cache.observe(key, prefix, usage, prefix_changed=changed, not_written=not_written)

    def _conversation(
        self, record: CallRecord, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        history, tools = self.reporter.wants("history_dropped"), self.reporter.wants("tool_result_missing")
        findings: list[Finding] = []
        conversation = record.attributes.get("gen_ai.conversation.id")
        if (history or tools) and isinstance(conversation, str):
            findings = self.conversations.observe(conversation, record.request, body, history=history, tools=tools)
        if tools and not any(finding.code == "tool_result_missing" for finding in findings):
            refused = missing_tool_result_error(error)
            if refused is not None:
                findings.append(refused)
        return findings


def _route(record: CallRecord) -> str:
    return str(record.attributes.get("anthropic.route", ""))
