"""What the end of a call tells: its final HTTP response, its parsed body, and the attributes they give.

Shared by both span paths (ours and the SDK's, enriched) and by streams, so that the same call
carries the same attributes whichever span records it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from anthropic_otel.attributes import (
    Attributes,
    error_type,
    field,
    header_attributes,
    header_pairs,
    response_attributes,
)
from anthropic_otel.operations import Operation
from anthropic_otel.resource_attributes import resource_response_attributes

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

__all__ = [
    "ResponseHead",
    "body_attributes",
    "final_response",
    "outcome_attributes",
    "response_body",
    "response_header_attributes",
]


class ResponseHead(NamedTuple):
    """What the end of a call reads from its HTTP response (status, headers), without the response.

    A call that outlives `request()` (a stream, an unread body) keeps this instead of the response
    itself, so that nothing it holds can lead back to the proxy the application reads through.
    """

    status_code: int
    headers: dict[str, str]

    @classmethod
    def of(cls, response: Any) -> Optional[ResponseHead]:
        if response is None:
            return None
        return cls(response.status_code, dict(response.headers.items()))


def outcome_attributes(
    record: CallRecord, response: Any, body: Any, error: Optional[BaseException], error_kind: Optional[str]
) -> Attributes:
    """What the end of the call adds to its span: response body, headers, status, retries."""
    attributes: Attributes = {}
    if response is not None:
        attributes["http.response.status_code"] = response.status_code
        attributes.update(response_header_attributes(record, response))
    if record.retries:
        attributes["http.request.resend_count"] = record.retries
    if body is not None:
        attributes.update(body_attributes(record, body))
    if error is not None:
        attributes["error.type"] = error_type(error)
    elif error_kind is not None:
        attributes["error.type"] = error_kind
    return attributes


def body_attributes(record: CallRecord, body: Any) -> Attributes:
    """What a successful response body gives the span: model-call fields, or batch and agent ids and counts.

    Worked out once per body (the SDK's span and the call's end both ask); callers must not change it.
    """
    return record.once("body", body, lambda: _body_attributes(record.operation, body))


def _body_attributes(operation: Operation, body: Any) -> Attributes:
    attributes = response_attributes(operation, body)
    attributes.update(resource_response_attributes(operation, body))
    return attributes


def response_header_attributes(record: CallRecord, response: Any) -> Attributes:
    """Request id, organization, rate limits, ... of `response`; worked out once per response."""
    return record.once("headers", response, lambda: header_attributes(header_pairs(response.headers)))


def response_body(result: Any) -> Any:
    """The parsed body of a result: the model itself, or a raw response's JSON once it was read."""
    raw: Any = field(result, "http_response")
    if raw is None:
        return result
    try:
        return json.loads(raw.content) if raw.is_closed else None
    except Exception:
        return None


def final_response(record: CallRecord, result: Any, error: Optional[BaseException]) -> Any:
    """The HTTP response of the call's final attempt, wherever this SDK version keeps it."""
    if record.response is not None:
        return record.response
    if error is not None:
        return getattr(error, "response", None)
    return field(result, "http_response") or field(result, "response")
