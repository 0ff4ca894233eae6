"""Streamed Messages (and legacy completions): what the events tell, kept as a handful of scalars.

A streamed call returns before its answer exists, so its end comes from the stream (`watch`):
read to its end, closed, broken off and dropped, or failed. `StreamRecorder` watches the events go
by on their way to the application and says what the end means (`outcome`). Per event the work is
one attribute read and a string comparison; only the rare events (`message_start`,
`message_delta`, `message_stop`) do more. No text is kept, so memory per stream is constant. The
stream helpers (`messages.stream()`, `text_stream`, `get_final_message()`, ...) all read the SDK's
stream, so they are covered by the same watcher.

Usage follows the API's rules: `message_start` carries the initial usage, each `message_delta` a
cumulative usage that replaces it, with the stop reason. A `message_delta` without a usage (which
the SDK's own accumulation cannot take either) gives nothing: the stream then records only what
came before it, as the SDK's own span does.

With content capture on, `ContentStreamRecorder` also hands the content block events to the
call's `StreamedContent`, which keeps at most the content limit per block; with it off, that class
is never used, so the per-event path is unchanged.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Outcome
from anthropic_otel._call.watch import ChunkClock, Recorder, is_stream, watch
from anthropic_otel._content_capture import CallContent
from anthropic_otel._read.attributes import Attributes, field, int_field

__all__ = ["ContentStreamRecorder", "StreamRecorder", "watch_stream"]

# Usage fields that a later event's cumulative usage replaces when present.
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "server_tool_use",
    "service_tier",
    "output_tokens_details",
)
_RARE = frozenset({"message_start", "message_delta", "message_stop", "completion"})


class StreamRecorder(Recorder):
    """The state of one streamed call: never the streamed text."""

    __slots__ = ("chunks", "delta_seen", "message", "stopped", "tool_ids", "ttft", "usage")

    def __init__(self, call: Call) -> None:
        super().__init__(call)
        self.ttft: Optional[float] = None
        self.chunks = ChunkClock()
        self.message: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.tool_ids: list[dict[str, Any]] = []
        self.delta_seen = False
        self.stopped = False

    def on_item(self, event: Any) -> None:
        """Observe one event. Must stay cheap: it runs for every chunk of every stream."""
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            now = self.chunks.tick()
            if self.ttft is None:
                self.ttft = now - self.call.start_s
        elif kind in _RARE:
            self._on_message_event(kind, event)
        elif kind == "content_block_start":
            block = getattr(event, "content_block", None)
            block_type = getattr(block, "type", None)
            if block_type == "tool_use":
                # Only the id: diagnostics check that the next request answers it with a tool_result.
                self.tool_ids.append({"type": "tool_use", "id": getattr(block, "id", None)})
            elif block_type == "server_tool_use":  # only the name: code runs are counted from these
                self.tool_ids.append({"type": "server_tool_use", "name": getattr(block, "name", None)})

    def _on_message_event(self, kind: str, event: Any) -> None:
        if kind == "message_start":
            message = field(event, "message")
            self.message = {"id": field(message, "id"), "model": field(message, "model")}
            self._merge_usage(field(message, "usage"))
        elif kind == "message_delta":
            usage = field(event, "usage")
            if int_field(usage, "output_tokens") is None:
                return  # not a delta the SDK can accumulate: nothing of it is recorded
            self.delta_seen = True
            self.message["stop_reason"] = field(event, "delta", "stop_reason")
            self._merge_usage(usage)
        elif kind == "completion":
            # The legacy completions stream (0.x): each event has the id and model; the last, the stop reason.
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.call.start_s
            self.message = {"id": field(event, "id"), "model": field(event, "model")}
            stop = field(event, "stop_reason")
            if stop is not None:
                self.message["stop_reason"] = stop
                self.delta_seen = self.stopped = True
        else:
            self.stopped = True

    def _merge_usage(self, usage: object) -> None:
        for name in _USAGE_FIELDS:
            value = field(usage, name)
            if value is not None:
                self.usage[name] = value

    def final_message(self) -> dict[str, Any]:
        """The message as far as the stream got; without `message_delta` the output count is a placeholder."""
        usage = dict(self.usage)
        message = {**self.message, "usage": usage}
        if self.tool_ids:
            message["content"] = self.tool_ids
        if not self.delta_seen:
            usage.pop("output_tokens", None)
            usage.pop("output_tokens_details", None)
            message.pop("stop_reason", None)
        return message

    def outcome(self, error: Optional[BaseException], *, exhausted: bool) -> Outcome:
        """A stream read to its end without `message_stop` was cut by the server: the application saw
        no error, but the call gets `error.type=api_error`, as the SDK records it. A stream closed or
        dropped early is no error: `anthropic.stream.completed=false`."""
        # Cut short: read to the end through the SDK's stream, which showed a start but no stop (an
        # application that reads the bytes itself shows us no event: nothing to judge).
        cut = error is None and exhausted and bool(self.message) and not self.stopped
        extra: Attributes = {"anthropic.stream.completed": self.stopped}
        ttft = self._sdk_time_to_first_chunk() or self.ttft
        if ttft is not None:
            extra["gen_ai.response.time_to_first_chunk"] = ttft
        return Outcome(
            self.call.response,
            self.final_message(),
            error,
            "api_error" if cut else None,
            ttft,
            extra,
            self.chunks.per_chunk(),
        )

    def _sdk_time_to_first_chunk(self) -> Optional[float]:
        """The time to first chunk the SDK's own span (1.14+) recorded, so that the metric agrees with
        the span that records the call; None without one (then ours, timed the same way)."""
        span = self.call.sdk_span
        value = getattr(span, "attributes", {}).get("gen_ai.response.time_to_first_chunk") if span else None
        return value if isinstance(value, float) else None


class ContentStreamRecorder(StreamRecorder):
    """A `StreamRecorder` that also accumulates the completion, for calls whose content is captured."""

    __slots__ = ("streamed",)

    def __init__(self, call: Call, content: CallContent) -> None:
        super().__init__(call)
        self.streamed = content.streamed()

    def on_item(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            self.streamed.delta(event)
        elif kind == "content_block_start":
            self.streamed.start(event)
        StreamRecorder.on_item(self, event)


def watch_stream(call: Call, result: Any) -> bool:
    """Watch a streamed Messages (or completions) result in place; False if `result` is not a stream."""
    if not is_stream(result):
        return False
    content = call.content
    recorder = StreamRecorder(call) if content is None else ContentStreamRecorder(call, content)
    return watch(result, recorder)
