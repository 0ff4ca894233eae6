"""The usage a managed-agents session reports, wherever the API reports it. Pure, like `attributes`.

A session's usage is cumulative (everything its agent spent since it was created) and the API
reports it in several places: the session object itself (`sessions.create` / `retrieve` / `update`
/ `archive`, each session of `sessions.list`), the `session.usage` snapshots among its events
(`events.list`, `events.stream`, a thread's stream), and, split up, each thread's `usage` and each
model request's `span.model_request_end` event. The first two are the session's whole usage, the
others parts of it: `reports` reads only the first two, so the model calls inside a session are
never counted beside the session that contains them.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from anthropic_otel._read.attributes import Attributes, field, int_field

__all__ = ["SESSION_USAGE_EVENT", "UsageReport", "reports", "session_usage_attributes"]

SESSION_USAGE_EVENT = "session.usage"
_PREFIX = "anthropic.session.usage."


class UsageReport(NamedTuple):
    """One cumulative usage of a session: its id and agent model where the body says them, and the usage."""

    session_id: Optional[str]
    model: Optional[str]
    usage: object


def _session(data: object) -> Optional[UsageReport]:
    if field(data, "type") != "session" or field(data, "usage") is None:
        return None
    session_id = field(data, "id")
    model = field(data, "agent", "model")
    model = field(model, "id") if not isinstance(model, str) else model
    return UsageReport(
        session_id if isinstance(session_id, str) else None,
        model if isinstance(model, str) else None,
        field(data, "usage"),
    )


def reports(body: object) -> list[UsageReport]:
    """The session usages a response body (or what an event stream showed) reports: each session
    object's, and of the `session.usage` events the last (they are snapshots of one session)."""
    found = _session(body)
    if found is not None:
        return [found]
    items = field(body, "data")
    if not isinstance(items, (list, tuple)):
        return []
    sessions = [report for report in map(_session, items) if report is not None]
    if sessions:
        return sessions
    snapshots = [item for item in items if field(item, "type") == SESSION_USAGE_EVENT]
    return [UsageReport(None, None, field(snapshots[-1], "usage"))] if snapshots else []


def session_usage_attributes(body: object) -> Attributes:
    """The cumulative usage of the one session a body is about (a session, or its usage events), as
    span attributes: tokens as the API counts them, and the API's own list cost when it has one.
    None for a list of sessions: the call is about no one session."""
    found = reports(body)
    if len(found) != 1 or (found[0].session_id is not None and field(body, "type") != "session"):
        return {}
    usage = found[0].usage
    attributes: Attributes = {}
    for name in ("input_tokens", "output_tokens", "cache_read_input_tokens"):
        count = int_field(usage, name)
        if count is not None:
            attributes[_PREFIX + name] = count
    written = [
        int_field(usage, "cache_creation", key) for key in ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
    ]
    if any(count is not None for count in written):
        attributes[_PREFIX + "cache_creation_input_tokens"] = sum(count or 0 for count in written)
    amount, currency = field(usage, "list_cost", "amount"), field(usage, "list_cost", "currency")
    if isinstance(amount, str) and amount.isdigit() and currency == "USD":
        attributes["anthropic.session.list_cost.usd"] = int(amount) / 100  # minor units: "2500" is 25.00
    return attributes
