"""How a call ended (`Outcome`, frozen), and what follows from it, read once (`read`: an `Ending`).

Every way a call ends (it returned, it raised, its stream or body was read, closed or dropped)
is described by one `Outcome`. Whoever saw the call end reads it (`read`) into an `Ending`: the
attributes that go on the call's span, whichever span that is (ours, or the SDK's own on 1.14+),
and its record; its metric attributes, usage and cost. `end.end` then only writes the `Ending` out,
so the same call carries the same keys on every path and nothing is read twice on the way down
(the SDK's own tracing works so too: a frozen result, then one end). What both span paths ask for
(headers, body attributes, cost) is worked out once per call (`Call.once`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._cardinality import bound_models
from anthropic_otel._metrics import METRIC_KEYS
from anthropic_otel._read.attributes import Attributes, AttributeValue, error_type, field, url_attributes
from anthropic_otel._read.bodies import UsageCounts, body_attributes, body_model, body_usage, usage_counts
from anthropic_otel._read.headers import header_attributes, header_pairs, ratelimit_headroom
from anthropic_otel._read.pricing import Cost

__all__ = [
    "Ending",
    "Outcome",
    "ResponseHead",
    "final_response",
    "read",
    "response_body",
    "response_header_attributes",
]

log = logging.getLogger("anthropic_otel.lifecycle")

_NOTHING: Attributes = {}
_NOTHING_LEFT: Mapping[str, float] = {}


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


class Ending(NamedTuple):
    """A call's end, read: what its `outcome` means for its span, metrics and record.

    `attributes` go on the span and the record; `url` on a span of ours (the SDK sets its own);
    `points` are the call's metric attributes (low-cardinality, models and error types capped);
    `counts` (of its usage) and `cost` feed the token and cost metrics and a tool runner's totals;
    `headroom` is the share left of each rate limit.
    """

    outcome: Outcome
    attributes: Attributes
    url: Attributes = _NOTHING
    points: Optional[dict[str, AttributeValue]] = None
    counts: Optional[UsageCounts] = None
    cost: Optional[Cost] = None
    headroom: Mapping[str, float] = _NOTHING_LEFT


def read(call: Call, outcome: Outcome, *, metrics: bool = True) -> Ending:
    """Read `outcome` once into an `Ending` for `end.end`; `metrics=False` reads only what a span takes
    (for the SDK's own span, whose call's metrics come at its end). Never raises: a part that cannot
    be read is left out (a count of 10**400 loses the call its cost), and the rest still goes out."""
    attributes: Attributes = _NOTHING
    url: Attributes = _NOTHING
    try:
        attributes = outcome_attributes(call, outcome)
        if call.attempt_url is not None and call.sdk_span is None:  # only a span of ours takes the URL
            url = _url_attributes(call)
    except Exception:
        log.debug("anthropic-otel: could not read a call's outcome", exc_info=True)
    if not metrics:
        return Ending(outcome, attributes, url)
    points: Optional[dict[str, AttributeValue]] = None
    counts: Optional[UsageCounts] = None
    cost: Optional[Cost] = None
    headroom: Mapping[str, float] = _NOTHING_LEFT
    try:
        points = metric_points(call, attributes)
        headroom = ratelimit_headroom(attributes)
        body = outcome.body
        usage = None if body is None else body_usage(call.operation, body)
        if usage is not None:
            counts = usage_counts(usage)
            cost = call_cost(call, body)
    except Exception:
        log.debug("anthropic-otel: could not read a call's metrics", exc_info=True)
    return Ending(outcome, attributes, url, points, counts, cost, headroom)


def metric_points(call: Call, outcome: Attributes) -> dict[str, AttributeValue]:
    """A finished call's metric attributes: the span's low-cardinality keys, the response model and
    error type from its outcome, with models and error types capped (`cardinality`)."""
    attributes = call.attributes
    chosen = {key: attributes[key] for key in METRIC_KEYS if key in attributes}
    model = outcome.get("gen_ai.response.model")
    if model is not None:
        chosen["gen_ai.response.model"] = model
    telemetry = call.telemetry
    bound_models(chosen, telemetry.models)
    failure = outcome.get("error.type")
    if isinstance(failure, str):
        chosen["error.type"] = telemetry.error_types.admit(failure)
    chosen.setdefault("gen_ai.operation.name", call.operation.metric_operation)
    return chosen


def _url_attributes(call: Call) -> Attributes:
    url = call.attempt_url
    if isinstance(url, str):  # the `openai` SDK's URL, as text
        scheme, _, rest = url.partition("://")
        netloc, slash, path_query = rest.partition("/")
        path, _, query = (slash + path_query).partition("?")
        return url_attributes(scheme, netloc, path, query, call.operation.query_params)
    return url_attributes(
        url.scheme,
        url.netloc.decode("ascii"),
        url.raw_path.partition(b"?")[0].decode("ascii"),
        url.query.decode("ascii"),
        call.operation.query_params,
    )


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
