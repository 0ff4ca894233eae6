"""Which SDK calls get telemetry, and what they are called.

The instrumentation sits at the SDK's one choke point, `APIClient.request`, which every resource
method (stable or beta, first-party or Bedrock/Vertex/Foundry, plain or through
`with_raw_response`) goes through once per call. There the call is known only by its HTTP method
and path, so this table maps those to the span name the SDK's own tracing (1.14+) gives the same
call. Keeping the names identical means telemetry does not change when users upgrade the SDK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

__all__ = ["Operation", "operation_for"]


@dataclass(frozen=True)
class Operation:
    """One kind of API call.

    `name` is the SDK's span name; `gen_ai_operation` the semantic-convention operation name the
    SDK puts on the span (`None` where it puts none); `metric_operation` what metrics use as
    `gen_ai.operation.name`, which semconv requires, so operations without a semconv name get
    their method name; `kind` tells the attribute extractors which response shape to expect.
    """

    name: str
    gen_ai_operation: Optional[str]
    metric_operation: str
    kind: str
    route: str
    query_params: frozenset[str] = frozenset()

    @property
    def is_generation(self) -> bool:
        """Whether the call spends tokens, so that token metrics apply."""
        return self.kind in ("message", "completion")


MESSAGES_CREATE = Operation("anthropic.messages.create", "chat", "chat", "message", "/v1/messages")
COUNT_TOKENS = Operation(
    "anthropic.messages.count_tokens", None, "count_tokens", "count_tokens", "/v1/messages/count_tokens"
)
COMPLETIONS_CREATE = Operation(
    "anthropic.completions.create", "text_completion", "text_completion", "completion", "/v1/complete"
)
_LIST_PARAMS = frozenset({"limit", "before_id", "after_id"})


def _batch(method: str) -> Operation:
    params = _LIST_PARAMS if method == "list" else frozenset()
    route = (
        "/v1/messages/batches"
        + {
            "create": "",
            "list": "",
            "retrieve": "/{message_batch_id}",
            "delete": "/{message_batch_id}",
            "cancel": "/{message_batch_id}/cancel",
            "results": "/{message_batch_id}/results",
        }[method]
    )
    return Operation(f"anthropic.messages.batches.{method}", None, f"batches.{method}", "batch", route, params)


_ID = r"[^/]+"
_ROUTES: tuple[tuple[str, re.Pattern[str], Operation], ...] = tuple(
    (method, re.compile(pattern + r"\Z"), operation)
    for method, pattern, operation in (
        ("POST", r"/v1/messages", MESSAGES_CREATE),
        ("POST", r"/v1/messages/count_tokens", COUNT_TOKENS),
        ("POST", r"/v1/complete", COMPLETIONS_CREATE),
        ("POST", r"/v1/messages/batches", _batch("create")),
        ("GET", r"/v1/messages/batches", _batch("list")),
        ("GET", rf"/v1/messages/batches/{_ID}", _batch("retrieve")),
        ("POST", rf"/v1/messages/batches/{_ID}/cancel", _batch("cancel")),
        ("DELETE", rf"/v1/messages/batches/{_ID}", _batch("delete")),
        ("GET", rf"/v1/messages/batches/{_ID}/results", _batch("results")),
    )
)


def operation_for(method: str, url: str) -> Operation | None:
    """The operation of a request with HTTP `method` to `url` (as the SDK's options hold it).

    `url` is usually a path such as `/v1/messages?beta=true`; an absolute URL (a batch's
    `results_url`) is reduced to its path. Anything not in the table gets no telemetry.
    """
    path = url.partition("?")[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    method = method.upper()
    for route_method, pattern, operation in _ROUTES:
        if route_method == method and pattern.match(path):
            return operation
    return None
