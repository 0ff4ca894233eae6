"""Streams: the call's span and metrics end exactly once, however the application stops reading.

A streamed call returns before its answer exists, so `calls.finish` cannot end it. Instead the
`Stream`/`AsyncStream` the SDK returns is wrapped in a proxy that watches the events go by and
finishes the call when the stream is exhausted, closed (also by `with`), broken out of (the
iterator generator is closed), fails, or is garbage-collected unread (a `weakref.finalize`).
`StreamRecorder.finish` runs at most once whichever comes first.

Per event the work is one attribute read and a string comparison; only the rare events
(`message_start`, `message_delta`, `message_stop`) do more. No text is kept, so memory per stream
is constant. The stream helpers (`messages.stream()`, `text_stream`, `get_final_message()`, ...)
all read the raw stream, so they are covered by the same proxy.

With content capture on, a `ContentStreamRecorder` also hands the content block events to the
call's `StreamedContent`, which keeps at most the content limit per block; with it off, that class
is never used, so the per-event path is unchanged.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from opentelemetry.trace import Span
from wrapt import ObjectProxy

from anthropic_otel.attributes import Attributes, field, response_attributes

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord
    from anthropic_otel.content_capture import CallContent

    _Proxy = ObjectProxy[Any]
else:
    _Proxy = ObjectProxy  # older wrapt releases are not subscriptable

Complete = Callable[..., None]

__all__ = ["AsyncStreamProxy", "ContentStreamRecorder", "Recorder", "StreamProxy", "StreamRecorder", "wrap_stream"]

log = logging.getLogger(__name__)

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


class StreamRecorder:
    """The state of one streamed call: a handful of scalars, never the streamed text."""

    __slots__ = (
        "__weakref__",
        "complete",
        "delta_seen",
        "finished",
        "message",
        "record",
        "stopped",
        "tool_ids",
        "ttft",
        "usage",
    )

    def __init__(self, record: CallRecord, complete: Complete) -> None:
        self.record = record
        self.complete = complete
        self.ttft: Optional[float] = None
        self.message: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.tool_ids: list[dict[str, Any]] = []
        self.delta_seen = False
        self.stopped = False
        self.finished = False
        sdk_span = record.sdk_span
        if sdk_span is not None:
            _set(sdk_span, {"anthropic.stream.completed": False})

    def on_item(self, event: Any) -> None:
        """Observe one event. Must stay cheap: it runs for every chunk of every stream."""
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.record.start_s
            return
        if kind == "message_start" or kind == "message_delta" or kind == "message_stop" or kind == "completion":  # noqa: PLR1714
            try:
                self._on_message_event(kind, event)
            except Exception:
                log.debug("anthropic-otel: could not read a stream event", exc_info=True)
        elif kind == "content_block_start":
            block = getattr(event, "content_block", None)
            if getattr(block, "type", None) == "tool_use":
                # Only the id: diagnostics check that the next request answers it with a tool_result.
                self.tool_ids.append({"type": "tool_use", "id": getattr(block, "id", None)})

    def _on_message_event(self, kind: str, event: Any) -> None:
        if kind == "message_start":
            message = field(event, "message")
            self.message = {"id": field(message, "id"), "model": field(message, "model")}
            self._merge_usage(field(message, "usage"))
        elif kind == "message_delta":
            self.delta_seen = True
            self.message["stop_reason"] = field(event, "delta", "stop_reason")
            self._merge_usage(field(event, "usage"))
            record = self.record
            sdk_span = record.sdk_span
            if sdk_span is not None:
                # The SDK ends its own span when the body ends; what only we record goes on now.
                message = self.final_message()
                _set(sdk_span, self._span_attributes(message, completed=False))
                record.telemetry.diagnostics.on_outcome(record, message, None, record.response, sdk_span)
                content = record.content
                if content is not None and content.on_sdk_span:
                    content.set_on_span(sdk_span, message)
        elif kind == "completion":
            # The legacy completions stream (0.x): each event has the id and model; the last, the stop reason.
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.record.start_s
            self.message = {"id": field(event, "id"), "model": field(event, "model")}
            stop = field(event, "stop_reason")
            if stop is not None:
                self.message["stop_reason"] = stop
                self.delta_seen = self.stopped = True
        else:
            self.stopped = True
            sdk_span = self.record.sdk_span
            if sdk_span is not None:
                _set(sdk_span, {"anthropic.stream.completed": True})

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

    def _span_attributes(self, message: dict[str, Any], *, completed: bool) -> Attributes:
        attributes = response_attributes(self.record.operation, message)
        cost = self.record.cost(message)
        if cost is not None:
            attributes["anthropic.cost.usd"] = cost.total
        attributes["anthropic.stream.completed"] = completed
        return attributes

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None:
        """End the call once: span (ours), attributes, status, metrics. Never raises.

        A stream read to its end without `message_stop` was cut by the server: the application
        saw no error, but the span and metrics get `error.type=api_error`, as the SDK records it.
        A stream dropped or closed early is not an error: `anthropic.stream.completed=false`.
        """
        if self.finished:
            return
        self.finished = True
        try:
            cut = error is None and exhausted and not self.stopped
            extra: Attributes = {"anthropic.stream.completed": self.stopped}
            if self.ttft is not None:
                extra["gen_ai.response.time_to_first_chunk"] = self.ttft
            self.complete(
                self.record,
                self.record.response,
                self.final_message(),
                error,
                error_kind="api_error" if cut else None,
                extra=extra,
                time_to_first_chunk=self.ttft,
            )
        except Exception:
            log.debug("anthropic-otel: could not finish a stream", exc_info=True)


class ContentStreamRecorder(StreamRecorder):
    """A `StreamRecorder` that also accumulates the completion, for calls whose content is captured."""

    __slots__ = ("streamed",)

    def __init__(self, record: CallRecord, complete: Complete, content: CallContent) -> None:
        super().__init__(record, complete)
        self.streamed = content.streamed()

    def on_item(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            try:
                self.streamed.delta(event)
            except Exception:
                log.debug("anthropic-otel: could not read a content delta", exc_info=True)
            if self.ttft is None:
                self.ttft = time.perf_counter() - self.record.start_s
            return
        if kind == "content_block_start":
            try:
                self.streamed.start(event)
            except Exception:
                log.debug("anthropic-otel: could not read a content block", exc_info=True)
            return
        StreamRecorder.on_item(self, event)


def _recorder(record: CallRecord, complete: Complete) -> StreamRecorder:
    content = record.content
    return StreamRecorder(record, complete) if content is None else ContentStreamRecorder(record, complete, content)


def _set(span: Span, attributes: Attributes) -> None:
    if span.is_recording():
        span.set_attributes(attributes)


def _finalize(recorder: Recorder) -> None:
    recorder.finish()


class Recorder(Protocol):
    """What watches an iterated result: each item as it passes, and the end, exactly once."""

    def on_item(self, item: Any) -> None: ...

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None: ...


class StreamProxy(_Proxy):
    """A `Stream` (or any iterable result) that reports its items and its end to a `Recorder`.

    The end is reported when iteration is exhausted, fails, is broken out of (the generator is
    closed), the result is closed (also by `with`), or the proxy is garbage-collected.
    """

    def __init__(self, stream: Any, recorder: Recorder) -> None:
        super().__init__(stream)
        self._self_recorder = recorder
        weakref.finalize(self, _finalize, recorder)

    def __iter__(self) -> Iterator[Any]:
        recorder = self._self_recorder
        on_item = recorder.on_item
        try:
            for event in self.__wrapped__:
                on_item(event)
                yield event
            recorder.finish(exhausted=True)
        except BaseException as error:
            if not isinstance(error, GeneratorExit):
                recorder.finish(error)
            raise
        finally:
            recorder.finish()

    def __next__(self) -> Any:
        try:
            event = self.__wrapped__.__next__()
        except StopIteration:
            self._self_recorder.finish(exhausted=True)
            raise
        except BaseException as error:
            self._self_recorder.finish(error)
            raise
        self._self_recorder.on_item(event)
        return event

    def __enter__(self) -> StreamProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_recorder.finish()


class AsyncStreamProxy(_Proxy):
    """An `AsyncStream` (or any async iterable result) that reports to a `Recorder`, as `StreamProxy`."""

    def __init__(self, stream: Any, recorder: Recorder) -> None:
        super().__init__(stream)
        self._self_recorder = recorder
        weakref.finalize(self, _finalize, recorder)

    async def __aiter__(self) -> AsyncIterator[Any]:
        recorder = self._self_recorder
        on_item = recorder.on_item
        try:
            async for event in self.__wrapped__:
                on_item(event)
                yield event
            recorder.finish(exhausted=True)
        except BaseException as error:
            if not isinstance(error, GeneratorExit):
                recorder.finish(error)
            raise
        finally:
            recorder.finish()

    async def __anext__(self) -> Any:
        try:
            event = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_recorder.finish(exhausted=True)
            raise
        except BaseException as error:
            self._self_recorder.finish(error)
            raise
        self._self_recorder.on_item(event)
        return event

    async def __aenter__(self) -> AsyncStreamProxy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_recorder.finish()


def wrap_stream(record: CallRecord, result: Any, complete: Complete) -> Optional[Any]:
    """The proxy for a streamed result, or None if `result` is not a stream.

    `complete` is `endings.complete`, passed in so that this module does not import the call lifecycle.
    """
    name = type(result).__name__
    if name == "Stream":
        return StreamProxy(result, _recorder(record, complete))
    if name == "AsyncStream":
        return AsyncStreamProxy(result, _recorder(record, complete))
    return None
