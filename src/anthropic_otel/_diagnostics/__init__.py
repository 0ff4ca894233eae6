"""Diagnostics: recognisable failure signatures of Claude integrations, detected in flight.

Each call is looked at twice: when its request is known (`begin`, before it is sent) and when its
outcome is (`on_outcome`, once, from whichever end of the call comes first: the SDK's span about
to end, or the call's own end). Retried attempts are reported in between (`on_retry`,
`on_attempt`). What is found goes to the call's span as an `anthropic.diagnostic` event, to the
`anthropic.client.diagnostics` counter and to the log (`reporter`).

A call's own diagnostic state is a `CallDiagnosis`, which the call holds; the detectors take
values (the request, the body, the error, the response) and never the call, so this package
imports nothing of the call's life. Each detector lives in its own module; this class only asks
the switched-on ones. Detectors are cheap and bounded; one that fails reports nothing, and the
call goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Optional

from opentelemetry.trace import Span

from anthropic_otel._diagnostics.beta_headers import unknown_betas
from anthropic_otel._diagnostics.conversations import ConversationWatch, missing_tool_result_error
from anthropic_otel._diagnostics.findings import CODES, Code, Finding
from anthropic_otel._diagnostics.prompt_cache import CacheWatch, prompt_prefix
from anthropic_otel._diagnostics.rate_limits import FailedAttempt, RateLimitWatch, failed_attempt
from anthropic_otel._diagnostics.reporter import EVENT_NAME, Reporter, parse_selection
from anthropic_otel._read.attributes import AttributeValue, field

__all__ = [
    "CODES",
    "EVENT_NAME",
    "CallDiagnosis",
    "Code",
    "Diagnostics",
    "FailedAttempt",
    "Finding",
    "Reporter",
    "parse_selection",
]

log = logging.getLogger(__name__)


class CallDiagnosis:
    """What one call's diagnostics know before its outcome: early findings and rate-limited attempts.

    `scope` is the call's span attributes at its start (route, model, conversation, provider);
    `detect` says whether the outcome detectors apply (Messages API model calls only).
    """

    __slots__ = ("detect", "done", "failed_attempts", "findings", "scope", "sent_early")

    def __init__(self, scope: Mapping[str, AttributeValue], *, detect: bool) -> None:
        self.scope = scope
        self.detect = detect
        self.findings: list[Finding] = []
        self.failed_attempts: list[FailedAttempt] = []
        self.sent_early = False
        self.done = False

    @property
    def route(self) -> str:
        return str(self.scope.get("anthropic.route", ""))


class Diagnostics:
    """The detectors of one `instrument()`, their bounded state, and the reporter their findings go to."""

    __slots__ = ("cache", "conversations", "rate_limits", "reporter")

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.cache = CacheWatch()
        self.conversations = ConversationWatch()
        self.rate_limits = RateLimitWatch()

    def begin(self, scope: Mapping[str, AttributeValue], *, detect: bool) -> Optional[CallDiagnosis]:
        """A call's diagnosis, with what its request already shows; None when every code is off."""
        if not self.reporter.enabled:
            return None
        diagnosis = CallDiagnosis(scope, detect=detect)
        if not detect:
            return diagnosis
        try:
            wants = self.reporter.wants
            if wants("beta_header_unknown"):
                betas = scope.get("anthropic.beta")
                if isinstance(betas, (list, tuple)):
                    diagnosis.findings.extend(unknown_betas(str(beta) for beta in betas))
            if wants("rate_limited"):
                diagnosis.sent_early = self.rate_limits.started(diagnosis.route)
        except Exception:
            log.debug("anthropic-otel: a request diagnostic failed", exc_info=True)
        return diagnosis

    def on_retry(self, diagnosis: CallDiagnosis, response: Any) -> None:
        """The SDK is about to retry an attempt that got `response`."""
        if not self.reporter.wants("rate_limited"):
            return
        attempt = failed_attempt(response, self.rate_limits.now())
        if attempt is not None:
            diagnosis.failed_attempts.append(attempt)

    def on_attempt(self, diagnosis: CallDiagnosis) -> None:
        """The SDK sends another attempt of the call: the previous failure waited until now."""
        if diagnosis.failed_attempts:
            RateLimitWatch.attempt_sent(diagnosis.failed_attempts, self.rate_limits.now())

    def on_outcome(
        self,
        diagnosis: CallDiagnosis,
        request: Any,
        body: Any,
        error: Optional[BaseException],
        response: Any,
        *,
        span: Optional[Span],
        context: Any,
    ) -> None:
        """Look at a call's outcome, once, and report everything found about the call.

        `span` is the span still open for the call (ours, or the SDK's before it ends), or None
        when there is none: the finding is then counted and logged only.
        """
        if diagnosis.done:
            return
        diagnosis.done = True
        findings = diagnosis.findings
        if diagnosis.detect:
            for detector in (self._max_tokens, self._rate_limited, self._prompt_cache, self._conversation):
                try:
                    findings.extend(detector(diagnosis, request, body, error, response))
                except Exception:
                    log.debug("anthropic-otel: an outcome diagnostic failed", exc_info=True)
        if findings:
            self.reporter.report(findings, span, diagnosis.scope, context)

    def _max_tokens(
        self, diagnosis: CallDiagnosis, request: Any, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        if not self.reporter.wants("max_tokens_reached") or field(body, "stop_reason") != "max_tokens":
            return []
        limit = field(request, "max_tokens")
        return [
            Finding(
                "max_tokens_reached",
                f"the answer was cut off at max_tokens={limit}: {CODES['max_tokens_reached'].fix}",
                {"gen_ai.request.max_tokens": limit} if isinstance(limit, int) else {},
            )
        ]

    def _rate_limited(
        self, diagnosis: CallDiagnosis, request: Any, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        if not self.reporter.wants("rate_limited"):
            return []
        attempts = list(diagnosis.failed_attempts)
        if error is not None and response is not None and not any(a.source is response for a in attempts):
            final = failed_attempt(response, self.rate_limits.now())
            if final is not None:
                attempts.append(final)
        finding = self.rate_limits.outcome(diagnosis.route, attempts, diagnosis.sent_early, error is None)
        return [finding] if finding is not None else []

    def _prompt_cache(
        self, diagnosis: CallDiagnosis, request: Any, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        changed, not_written = self.reporter.wants("cache_prefix_changed"), self.reporter.wants("cache_not_written")
        usage = field(body, "usage")
        if not (changed or not_written) or usage is None:
            return []
        prefix = prompt_prefix(request)
        if prefix is None:
            return []
        key = (diagnosis.route, str(diagnosis.scope.get("gen_ai.request.model", "")))
        return self.cache.observe(key, prefix, usage, prefix_changed=changed, not_written=not_written)

    def _conversation(
        self, diagnosis: CallDiagnosis, request: Any, body: Any, error: Optional[BaseException], response: Any
    ) -> list[Finding]:
        history, tools = self.reporter.wants("history_dropped"), self.reporter.wants("tool_result_missing")
        findings: list[Finding] = []
        conversation = diagnosis.scope.get("gen_ai.conversation.id")
        if (history or tools) and isinstance(conversation, str):
            findings = self.conversations.observe(conversation, request, body, history=history, tools=tools)
        if tools and not any(finding.code == "tool_result_missing" for finding in findings):
            refused = missing_tool_result_error(error)
            if refused is not None:
                findings.append(refused)
        return findings
