"""Streamed chat completions: the chunks as they pass, and what the end of the stream means.

`create(stream=True)` returns an `openai.Stream` of `ChatCompletionChunk`s. It is watched in place
(`watch`), like a Messages API stream, so the call ends exactly once whichever way the application
stops (exhausted, closed, broken off and dropped, failed). `ChunkRecorder` keeps the id and model
of the first chunk, the time of the first content or tool call delta, the finish reasons, and the
usage chunk, which the API sends only when the request asked for it with
`stream_options={"include_usage": True}`.
"""

from __future__ import annotations

from typing import Any, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Outcome
from anthropic_otel._call.watch import ChunkClock, Recorder, watch
from anthropic_otel._read.attributes import Attributes

__all__ = ["ChunkRecorder", "watch_chunks"]


class ChunkRecorder(Recorder):
    """The state of one streamed call: a handful of scalars, never the streamed text."""

    __slots__ = ("chunks", "finish_reasons", "id", "model", "ttft", "usage")

    def __init__(self, call: Call) -> None:
        super().__init__(call)
        self.id: Optional[str] = None
        self.model: Optional[str] = None
        self.ttft: Optional[float] = None
        self.chunks = ChunkClock()
        self.finish_reasons: list[str] = []
        self.usage: Any = None

    def on_item(self, chunk: Any) -> None:
        """Observe one chunk. Cheap: a few attribute reads per chunk."""
        if self.id is None:
            self.id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
        for choice in getattr(chunk, "choices", None) or ():
            delta = getattr(choice, "delta", None)
            if getattr(delta, "content", None) or getattr(delta, "tool_calls", None):
                now = self.chunks.tick()
                if self.ttft is None:
                    self.ttft = now - self.call.start_s
            reason = getattr(choice, "finish_reason", None)
            if isinstance(reason, str):
                self.finish_reasons.append(reason)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage

    def outcome(self, error: Optional[BaseException], *, exhausted: bool) -> Outcome:
        """A stream read to its end without a finish reason was cut by the server."""
        completed = bool(self.finish_reasons)
        extra: Attributes = {"anthropic.stream.completed": completed}
        if self.ttft is not None:
            extra["gen_ai.response.time_to_first_chunk"] = self.ttft
        body = {
            "id": self.id,
            "model": self.model,
            "choices": [{"finish_reason": reason} for reason in self.finish_reasons],
            "usage": self.usage,
        }
        cut = error is None and exhausted and not completed
        return Outcome(
            self.call.response, body, error, "api_error" if cut else None, self.ttft, extra, self.chunks.per_chunk()
        )


def watch_chunks(call: Call, result: Any) -> bool:
    """Watch a streamed chat completion in place; False if `result` is not an `openai` stream."""
    if type(result).__name__ not in ("Stream", "AsyncStream"):
        return False
    return watch(result, ChunkRecorder(call))
