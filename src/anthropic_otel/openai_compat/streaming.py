"""Streamed chat completions: a `Recorder` for the package's stream proxies.

`create(stream=True)` returns an `openai.Stream` of `ChatCompletionChunk`s; it is wrapped in the
same `StreamProxy` / `AsyncStreamProxy` as Messages API streams, so the span ends exactly once
whichever way the application stops (exhausted, closed, broken out of, failed, dropped). This
recorder only watches the chunks go by: the id and model of the first, the first content or tool
call delta (time to first chunk), the finish reasons, and the usage chunk, which the API sends
only when the request asked for it with `stream_options={"include_usage": True}`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

from anthropic_otel.attributes import Attributes
from anthropic_otel.openai_compat.calls import CompatCall, complete
from anthropic_otel.streaming import AsyncStreamProxy, StreamProxy

__all__ = ["ChunkRecorder", "wrap_stream"]

log = logging.getLogger("anthropic_otel.openai_compat")


class ChunkRecorder:
    """The state of one streamed call: a handful of scalars, never the streamed text."""

    __slots__ = ("__weakref__", "call", "finish_reasons", "finished", "id", "model", "ttft", "usage")

    def __init__(self, call: CompatCall) -> None:
        self.call = call
        self.id: Optional[str] = None
        self.model: Optional[str] = None
        self.ttft: Optional[float] = None
        self.finish_reasons: list[str] = []
        self.usage: Any = None
        self.finished = False

    def on_item(self, chunk: Any) -> None:
        """Observe one chunk. Cheap: a few attribute reads per chunk."""
        try:
            if self.id is None:
                self.id = getattr(chunk, "id", None)
                self.model = getattr(chunk, "model", None)
            for choice in getattr(chunk, "choices", None) or ():
                if self.ttft is None:
                    delta = getattr(choice, "delta", None)
                    if getattr(delta, "content", None) or getattr(delta, "tool_calls", None):
                        self.ttft = time.perf_counter() - self.call.start_s
                reason = getattr(choice, "finish_reason", None)
                if isinstance(reason, str):
                    self.finish_reasons.append(reason)
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                self.usage = usage
        except Exception:
            log.debug("anthropic-otel: could not read a chat completion chunk", exc_info=True)

    def body(self) -> dict[str, Any]:
        """The answer as far as the stream got, in the shape of a `ChatCompletion`."""
        choices = [{"finish_reason": reason} for reason in self.finish_reasons]
        return {"id": self.id, "model": self.model, "choices": choices, "usage": self.usage}

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None:
        """End the call once. A stream read to its end without a finish reason was cut by the server."""
        if self.finished:
            return
        self.finished = True
        completed = bool(self.finish_reasons)
        extra: Attributes = {"anthropic.stream.completed": completed}
        if self.ttft is not None:
            extra["gen_ai.response.time_to_first_chunk"] = self.ttft
        cut = error is None and exhausted and not completed
        complete(self.call, self.body(), error, cut=cut, extra=extra, time_to_first_chunk=self.ttft)


def wrap_stream(call: CompatCall, result: Any) -> Optional[Any]:
    """The proxy for a streamed result, or None if `result` is not an `openai` stream."""
    name = type(result).__name__
    if name == "Stream":
        return StreamProxy(result, ChunkRecorder(call))
    if name == "AsyncStream":
        return AsyncStreamProxy(result, ChunkRecorder(call))
    return None
