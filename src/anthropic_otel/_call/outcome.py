"""How a call ended (`Outcome`, frozen), and the attributes and cost that follow from it.

Every way a call ends (it returned, it raised, its stream or body was read, closed or dropped)
is described by one `Outcome`; `outcome_attributes` turns it into the attributes that go on the
call's span, whichever span that is (ours, or the SDK's own on 1.14+), its record and its metric
points, so the same call carries the same keys on every path. What both span paths ask for
(headers, body attributes, cost) is worked out once per call (`Call.once`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, NamedTuple, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._read.attributes import Attributes, error_type, field
from anthropic_otel._read.bodies import body_attributes, body_model, body_usage
from anthropic_otel._read.headers import header_attributes, header_pairs
from anthropic_otel._read.pricing import Cost

__all__ = ["Outcome", "ResponseHead", "call_cost", "final_response", "outcome_attributes", "response_body"]

log = logging.getLogger("anthropic_otel.lifecycle")

_NOTHING: Attributes = {}


class Outcome(NamedTuple):
    """How one call ended.

    `response` is the final HTTP response (or its `ResponseHead`); `body` what the answer was (a
    model, decoded JSON, or what a stream showed); `error` what the application got raised, if
    anything; `error_kind` marks a call that failed without an exception (a stream the server cut
    short); `extra` are attributes only this kind of result has (a stream's completion, batch totals).
    """

    response: Any
    body: Any = None
    error: Optional[BaseException] = None
    error_kind: Optional[str] = None
    time_to_first_chunk: Optional[float] = None
    extra: Attributes = _NOTHING
    time_per_output_chunk: Optional[float] = None

    @property
    def failed(self) -> bool:
        """Whether the call failed: an API or client error, not the application stopping it.

        Anything but an `Exception` (a `CancelledError`, `KeyboardInterrupt`, `GeneratorExit`,
        `SystemExit`) is the application stopping the call, as the SDK's own tracing sees it.
        """
        return self.error_kind is not None or isinstance(self.error, Exception)


class ResponseHead(NamedTuple):
    """The status and headers of a response, without the response.

    A call whose result is read later (a stream, an unread body) keeps this instead of the
    response: on SDK 1.14+ the response leads back to the result (the SDK's span observer on its
    body holds the stream helper), and the finalizer that holds the call would keep it alive.
    """

    status_code: int
    headers: list[Any]

    @classmethod
    def of(cls, response: Any) -> Optional[ResponseHead]:
        if response is None or isinstance(response, ResponseHead):
            return response
        return cls(response.status_code, list(header_pairs(response.headers)))


def outcome_attributes(call: Call, outcome: Outcome) -> Attributes:
    """What the end of the call adds to its span: status, headers, retries, body, cost, error, extras.

    A call that returned a body is asked twice on SDK 1.14+ (for the SDK's span, then for the metrics
    and the record) with the same body: worked out once. Callers must not change what they get.
    """
    if outcome.body is not None and outcome.error is None and outcome.error_kind is None and not outcome.extra:
        return call.once("outcome", outcome.body, lambda: _outcome_attributes(call, outcome))
    return _outcome_attributes(call, outcome)


def _outcome_attributes(call: Call, outcome: Outcome) -> Attributes:
    attributes: Attributes = {}
    response = outcome.response
    if response is not None:
        attributes["http.response.status_code"] = response.status_code
        attributes.update(response_header_attributes(call, response))
    if call.retries:
        attributes["http.request.resend_count"] = call.retries
    body = outcome.body
    if body is not None:
        attributes.update(call.once("body", body, lambda: body_attributes(call.operation, body)))
        cost = call_cost(call, body)
        if cost is not None:
            attributes["anthropic.cost.usd"] = cost.total
    if outcome.error_kind is not None:
        attributes["error.type"] = outcome.error_kind
    elif isinstance(outcome.error, Exception):
        attributes["error.type"] = error_type(outcome.error)
    if outcome.extra:
        attributes.update(outcome.extra)
    return attributes


def response_header_attributes(call: Call, response: Any) -> Attributes:
    """Request id, organization, rate limits, ... of `response` (or its head); once per response."""
    headers = response if isinstance(response, ResponseHead) else None
    return call.once(
        "headers",
        response,
        lambda: header_attributes(headers.headers if headers is not None else header_pairs(response.headers)),
    )


def call_cost(call: Call, body: Any) -> Optional[Cost]:
    """What the call cost, from its final `body`; None for calls that spend no tokens, or unpriced ones."""
    if not call.operation.is_generation or body is None:
        return None
    return call.once("cost", body, lambda: _cost(call, body))


def _cost(call: Call, body: Any) -> Optional[Cost]:
    """The cost, or None when it cannot be worked out: a usage no arithmetic takes (a count of 10**400)
    loses the call its cost, not its other telemetry."""
    try:
        usage = body_usage(call.operation, body)
        requested = call.attributes.get("gen_ai.request.model")
        # A platform's price depends on the id sent (`us.anthropic.…`): its answer names only the model.
        model = body_model(body, requested) if call.platform[0] == "anthropic" else requested
        if usage is None or not isinstance(model, str):
            return None
        return call.telemetry.cost(model, usage, platform=call.platform)
    except Exception:
        log.debug("anthropic-otel: could not work out a call's cost", exc_info=True)
        return None


def response_body(result: Any) -> Any:
    """The parsed body of a result: the model itself, or a raw response's JSON once it was read."""
    raw: Any = field(result, "http_response")
    if raw is None:
        return result
    try:
        return json.loads(raw.content) if raw.is_closed else None
    except Exception:
        return None


def final_response(call: Call, result: Any, error: Optional[BaseException]) -> Any:
    """The HTTP response of the call's final attempt, wherever this SDK version keeps it."""
    if call.response is not None:
        return call.response
    if error is not None:
        return getattr(error, "response", None)
    return field(result, "http_response") or field(result, "response")
