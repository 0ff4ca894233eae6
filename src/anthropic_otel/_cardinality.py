"""Cardinality caps: metric attributes whose values the application chooses stay bounded.

Every distinct attribute value makes a new time series in the metric backend, held in memory by
the OpenTelemetry SDK until the process ends. A value that comes from application code (a route
name, a model name passed through from a user, a fine-tuned or proxied model id) could otherwise
grow without end. `ValueLimiter` admits the first `limit` distinct values (plus a fixed set of
`known` ones) and records the rest as `other`, warning once, so the series count is at most
`len(known) + limit + 1`.

Model names and error types are capped on metric points only: spans and log records keep the
real value. Route names are capped everywhere (spans and records too), as they always were.

What is bounded where:

- `anthropic.route`: `ANTHROPIC_OTEL_MAX_ROUTES` (`routes.RouteLimiter`), spans included;
- `gen_ai.request.model`, `gen_ai.response.model`: one limiter for both, `ANTHROPIC_OTEL_MAX_MODELS`;
  the exact model ids of the price table always pass (`model_limiter`);
- `gen_ai.tool.name` (tool run durations): `TOOL_NAME_LIMIT` names (the application's tools, named
  in its code, but a runner of generated tools could make many);
- `error.type`: `ERROR_TYPE_LIMIT` values (the API's error types and status codes are a short list;
  a gateway in front of the API could invent more);
- everything else is a fixed vocabulary (operation, provider, token type, cost category, ...) or
  comes from the client's configuration (`server.address`, `server.port`: one per endpoint).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, MutableMapping

from anthropic_otel._read.attributes import AttributeValue

__all__ = [
    "ERROR_TYPE_LIMIT",
    "TOOL_NAME_LIMIT",
    "MODEL_KEYS",
    "OTHER",
    "ValueLimiter",
    "bound_models",
    "error_type_limiter",
    "model_limiter",
    "tool_name_limiter",
]

log = logging.getLogger(__name__)

OTHER = "other"
# Metric attribute keys whose values are model names (from the request, or echoed in the response).
MODEL_KEYS = ("gen_ai.request.model", "gen_ai.response.model")
ERROR_TYPE_LIMIT = 50
TOOL_NAME_LIMIT = 100


class ValueLimiter:
    """At most `limit` distinct values per process besides `known`; the rest become `other`.

    `what` names the values and `hint` says what to do, for the one warning. Thread-safe; the
    common case (a value already admitted) takes no lock.
    """

    def __init__(self, limit: int, *, what: str, hint: str, known: Iterable[str] = ()) -> None:
        self.limit = limit
        self.what = what
        self.hint = hint
        self._known = frozenset(known)
        self._seen: set[str] = set()
        self._warned = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many values were admitted besides the known ones (never more than `limit`)."""
        return len(self._seen)

    def admit(self, value: str) -> str:
        """`value` if it is known or one of the first `limit` values seen, else `other` (warned about once)."""
        if value in self._seen or value in self._known:
            return value
        with self._lock:
            if value in self._seen or len(self._seen) < self.limit:
                self._seen.add(value)
                return value
            if not self._warned:
                self._warned = True
                log.warning(
                    "anthropic-otel: more than %d distinct %s; %r and later new ones are recorded as %r. %s",
                    self.limit,
                    self.what,
                    value,
                    OTHER,
                    self.hint,
                )
        return OTHER


def model_limiter(limit: int, priced: Iterable[str]) -> ValueLimiter:
    """The limiter of model names: the price table's exact model ids pass, plus `limit` others.

    Wildcard and prefix matches of the price table do not pass by themselves (a prefix matches
    endless names); they take a slot like any other name.
    """
    known = (key for key in priced if not key.endswith("*"))
    hint = "Raise ANTHROPIC_OTEL_MAX_MODELS if these models are real (metric points only: spans keep every name)."
    return ValueLimiter(limit, what="model names", hint=hint, known=known)


def error_type_limiter() -> ValueLimiter:
    """The limiter of `error.type` values on metric points (spans keep every value)."""
    hint = "The API has far fewer error types: something between the SDK and the API makes them up."
    return ValueLimiter(ERROR_TYPE_LIMIT, what="error types", hint=hint)


def tool_name_limiter() -> ValueLimiter:
    """The limiter of tool names on metric points (spans keep every name)."""
    hint = "Tool names come from the application's code: something makes up new tools as it runs."
    return ValueLimiter(TOOL_NAME_LIMIT, what="tool names", hint=hint)


def bound_models(attributes: MutableMapping[str, AttributeValue], models: ValueLimiter) -> None:
    """Cap the model names of a metric attribute set in place."""
    for key in MODEL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str):
            attributes[key] = models.admit(value)
