"""One structured record per call: the line an engineer greps for when a call went wrong.

Every finished call emits an OpenTelemetry log record with event name `anthropic.call`, in the
context of the call's span (so backends link it by trace and span id), whose attributes say what
the call was: model, request id, tokens (input, output, cache read, cache write), latency, time to
first token, cost, route, stop reason, error type. Sampling drops spans, not these records.

Users without an OTLP pipeline can ask for the same record as one JSON line on the Python logger
`anthropic_otel.calls` (`ANTHROPIC_OTEL_LOG_CALLS=true`). Never content, never keys: the record
is built from an allow-list of attribute keys, nothing else gets in.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Mapping
from typing import Any, Optional

from opentelemetry._logs import Logger, LogRecord, SeverityNumber
from opentelemetry.context import Context

from anthropic_otel._read.attributes import Attributes, AttributeValue

__all__ = ["CALL_EVENT", "CallLog", "call_record"]

CALL_EVENT = "anthropic.call"
JSON_LOGGER = "anthropic_otel.calls"

# What a call's record carries, taken from its span attributes; the only keys that can get in.
RECORD_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.response.id",
    "anthropic.request.id",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.response.time_to_first_chunk",
    "anthropic.message.stop_reason",
    "anthropic.cost.usd",
    "anthropic.route",
    "gen_ai.conversation.id",
    "user.id",
    "anthropic.session.id",
    "gen_ai.agent.id",
    "anthropic.session.usage.input_tokens",
    "anthropic.session.usage.output_tokens",
    "http.response.status_code",
    "http.request.resend_count",
    "error.type",
)
DURATION_KEY = "anthropic.call.duration"

# `LogRecord(event_name=...)` exists from opentelemetry-api 1.35; before, the name is an attribute.
_HAS_EVENT_NAME = "event_name" in inspect.signature(LogRecord.__init__).parameters


def call_record(attributes: Mapping[str, AttributeValue], duration_s: float) -> Attributes:
    """The record of a finished call, from its span attributes and its duration in seconds."""
    record: Attributes = {key: attributes[key] for key in RECORD_KEYS if key in attributes}
    record[DURATION_KEY] = round(duration_s, 6)
    return record


class CallLog:
    """Where call records go: the OpenTelemetry logger, and optionally one JSON line per call."""

    def __init__(self, logger: Logger, json_lines: bool) -> None:
        self.logger = logger
        self.json_logger: Optional[logging.Logger] = _json_logger() if json_lines else None

    @property
    def wanted(self) -> bool:
        """Whether a record would go anywhere: building one costs microseconds per call, and
        without a LoggerProvider (the default) the OpenTelemetry logger drops it anyway."""
        if self.json_logger is not None:
            return True
        enabled = getattr(self.logger, "enabled", None)  # opentelemetry-api 1.3x+
        try:
            return enabled is None or bool(enabled())
        except Exception:
            return True

    def emit(self, record: Attributes, context: Optional[Context]) -> None:
        """The `anthropic.call` record of a finished call."""
        self.emit_event(CALL_EVENT, record, context, failed="error.type" in record)

    def emit_event(
        self, event: str, record: Mapping[str, Any], context: Optional[Context], *, failed: bool, json_line: bool = True
    ) -> None:
        """A record named `event`: to the OpenTelemetry logger and, if asked for (and `json_line`), as a JSON line."""
        severity = SeverityNumber.WARN if failed else SeverityNumber.INFO
        kwargs: dict[str, Any] = {
            "context": context,
            "severity_number": severity,
            "severity_text": "WARN" if failed else "INFO",
            "body": event,
        }
        if _HAS_EVENT_NAME:
            self.logger.emit(LogRecord(attributes=record, event_name=event, **kwargs))
        else:  # pragma: no cover - older opentelemetry-api
            self.logger.emit(LogRecord(attributes={**record, "event.name": event}, **kwargs))
        if self.json_logger is not None and json_line:
            line = json.dumps({"event": event, **_plain(record)}, separators=(",", ":"), sort_keys=True)
            self.json_logger.log(logging.WARNING if failed else logging.INFO, line)


def _plain(record: Mapping[str, Any]) -> dict[str, object]:
    """Tuples (how OpenTelemetry stores sequences) as lists, so the JSON is what users expect."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in record.items()}


def _json_logger() -> logging.Logger:
    """The `anthropic_otel.calls` logger, with a stderr handler if the application configured none.

    A user who switched the JSON lines on wants to see them even without a logging set-up;
    one who has one keeps full control (level, handlers, format).
    """
    logger = logging.getLogger(JSON_LOGGER)
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return logger
