"""Managed-agents session usage into the metrics, once per token, from whichever call reports it.

The call that returns a session (or its usage events) records the part of the session's usage not
recorded before (`_session_usage.SessionUsage`) on the token, cache, server tool and cost metrics,
as the session agent's work: `gen_ai.operation.name=invoke_agent` and the agent's model, with the
call's provider, server and route. Never a session or agent id: those stay on spans and records.
"""

from __future__ import annotations

from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Outcome
from anthropic_otel._read.attributes import AttributeValue
from anthropic_otel._read.bodies import usage_counts
from anthropic_otel._read.sessions import reports

__all__ = ["SESSION_KINDS", "record_session_usage"]

SESSION_KINDS = frozenset({"managed", "event_stream"})
_POINT_KEYS = ("gen_ai.provider.name", "server.address", "server.port", "anthropic.route")


def record_session_usage(call: Call, outcome: Outcome) -> None:
    """Record what the session usage in `outcome`'s body adds to what was recorded before."""
    body = outcome.body
    if body is None or call.operation.kind not in SESSION_KINDS:
        return
    telemetry = call.telemetry
    for report in reports(body):
        session = report.session_id or call.attributes.get("anthropic.session.id")
        if not isinstance(session, str):
            continue
        grown, model = telemetry.sessions.increase(session, report.model, report.usage)
        if grown is None:
            continue
        points: dict[str, AttributeValue] = {key: call.attributes[key] for key in _POINT_KEYS if key in call.attributes}
        points["gen_ai.operation.name"] = "invoke_agent"
        cost = None
        if isinstance(model, str):
            points["gen_ai.request.model"] = telemetry.models.admit(model)
            cost = telemetry.cost(model, grown)
        telemetry.instruments.record_tokens(usage_counts(grown), points, cost)
