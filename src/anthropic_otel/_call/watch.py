"""Results the application reads after the call returned, watched in place.

The application must get exactly the object the SDK made: a proxy in its place fails the 0.x
stream metaclass's `isinstance`, copies and pickles differently, and has another `type()`. So the
object stays as it is and only the iterator it reads through is put behind a watcher: every SDK
class whose items are read later (`Stream`, `AsyncStream`, `JSONLDecoder`, `AsyncJSONLDecoder`,
and the `openai` SDK's streams) keeps one iterator in `_iterator`, which `__next__` and `__iter__`
(and their async twins) both read. The watcher reports each item to the call's `Recorder` and the
end when that iterator is exhausted or fails; since the iterator is the object's one iterator, a
peek with `next()` followed by a `for` loop, or a loop broken out of and resumed, reads on through
the same watcher. The call also ends when the object is closed (a class-level hook on `close`,
`close_watched`) or garbage-collected (a `weakref.finalize` on the object itself). Whichever comes
first ends it; `end.end` makes it the only one.

Nothing here holds the object: the watcher holds the SDK's iterator (which, from SDK 1.14 on,
runs on a copy of the object) and the recorder, so a dropped stream is freed as it would be bare.
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Any, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._call.collected import collected
from anthropic_otel._call.end import abandon, end
from anthropic_otel._call.outcome import Outcome, read

__all__ = ["ChunkClock", "Recorder", "close_watched", "is_stream", "watch"]

log = logging.getLogger(__name__)

_NOT_ENDED = "anthropic-otel: could not end a call"
_STREAMS = frozenset({"Stream", "AsyncStream"})


def is_stream(result: Any) -> bool:
    """Whether `result` is the SDK's SSE stream, or a platform's subclass of it (`BedrockStream`)."""
    cls = type(result)
    return cls.__name__ in _STREAMS or any(base.__name__ in _STREAMS for base in cls.__mro__[1:])


class Recorder:
    """Watches the items of one call's result as the application reads them, and ends the call.

    Subclasses learn from items (`on_item`, which must stay cheap and never raise) and say what
    the end means (`outcome`); `finish` is the same for all.
    """

    __slots__ = ("__weakref__", "call")

    # Whether the SDK's own span (1.14+) must wait for this recorder's end (`sdk_span.body_ending`).
    holds_sdk_span = False

    def __init__(self, call: Call) -> None:
        self.call = call
        call.watcher = self

    def on_item(self, item: Any) -> None:
        """One item, on its way to the application."""

    def outcome(self, error: Optional[BaseException], *, exhausted: bool) -> Outcome:
        """How the call ended, as far as the application read: `exhausted` when it read to the end."""
        return Outcome(self.call.response, None, error)

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None:
        """End the call (at most once, whoever asks). Never raises."""
        call = self.call
        if call.ended:
            return
        try:
            outcome = self.outcome(error, exhausted=exhausted)
        except Exception:
            log.debug("anthropic-otel: could not read how a result ended", exc_info=True)
            outcome = Outcome(call.response, None, error)
        end(call, read(call, outcome))


class ChunkClock:
    """When a stream's output chunks were read: the first one, the last one and how many.

    `per_chunk` is the mean time from one chunk to the next: the stream's one point of
    `gen_ai.client.operation.time_per_output_chunk`. Semconv records a point per chunk, but a
    histogram measurement costs the OpenTelemetry SDK about 10 µs, fifty times what a stream does
    per event; this costs a clock read. Times are when the application reads each chunk.
    """

    __slots__ = ("count", "first", "last")
    clock = staticmethod(time.perf_counter)

    def __init__(self) -> None:
        self.count = 0
        self.first = self.last = 0.0

    def tick(self) -> float:
        """One more chunk, now (returned, as `time.perf_counter()`)."""
        now = self.last = self.clock()
        if not self.count:
            self.first = now
        self.count += 1
        return now

    def per_chunk(self) -> Optional[float]:
        """The mean time between consecutive chunks; None before a second one."""
        return (self.last - self.first) / (self.count - 1) if self.count > 1 else None


class _Watcher:
    """What the sync and async watchers share: the SDK's iterator, the recorder, and the guarded steps.

    `__next__` / `__anext__` are entered by the SDK's stream with each read: they run the SDK's own
    iterator and hand what it gives to `_seen` and `_ended`, which catch whatever the recorder raises.
    """

    __slots__ = ("inner", "recorder")

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder

    def _seen(self, item: Any) -> Any:
        """One item, on its way to the application (returned unchanged)."""
        try:
            self.recorder.on_item(item)
        except Exception:
            log.debug("anthropic-otel: could not read an item of a result", exc_info=True)
        return item

    def _ended(self, error: BaseException) -> BaseException:
        """Reading ended with `error` (`StopIteration` and its async twin: read to the end); returned unchanged."""
        try:
            exhausted = isinstance(error, (StopIteration, StopAsyncIteration))
            self.recorder.finish(None if exhausted else error, exhausted=exhausted)
        except Exception:
            log.debug(_NOT_ENDED, exc_info=True)
            abandon(self.recorder.call)
        return error


class _Watched(_Watcher):
    """The iterator of a sync result, behind which the SDK's own runs."""

    __slots__ = ()

    def __iter__(self) -> _Watched:
        return self

    def __next__(self) -> Any:
        try:
            return self._seen(self.inner.__next__())
        except BaseException as error:
            raise self._ended(error)  # noqa: B904 - the very exception, re-raised as it came


class _WatchedAsync(_Watcher):
    """The iterator of an async result, behind which the SDK's own runs."""

    __slots__ = ()

    def __aiter__(self) -> _WatchedAsync:
        return self

    async def __anext__(self) -> Any:
        try:
            return self._seen(await self.inner.__anext__())
        except BaseException as error:
            raise self._ended(error)  # noqa: B904 - the very exception, re-raised as it came


def _finalize(recorder: Recorder) -> None:
    """The result was collected: the application is done with it, however far it read."""
    try:
        recorder.finish()
    except Exception:
        log.debug(_NOT_ENDED, exc_info=True)
        abandon(recorder.call)


def watch(result: Any, recorder: Recorder) -> bool:
    """Put `recorder` behind `result`'s own iterator, in place; False (nothing changed) if it has none.

    The object keeps its type, its attributes and its behaviour; only the value of `_iterator`
    (made now if the SDK makes it on first use) reads through the watcher.
    """
    inner = getattr(result, "_iterator", None)
    if inner is None:
        return False
    if hasattr(inner, "__anext__"):
        result.__dict__["_iterator"] = _WatchedAsync(inner, recorder)
    elif hasattr(inner, "__next__"):
        result.__dict__["_iterator"] = _Watched(inner, recorder)
    else:
        return False
    weakref.finalize(result, collected, _finalize, recorder)
    return True


def close_watched(result: Any) -> None:
    """`result` was closed: end its call, if it is watched. Called by the hooks on `close`."""
    watched = getattr(result, "__dict__", {}).get("_iterator")
    if isinstance(watched, _Watcher):
        try:
            watched.recorder.finish()
        except Exception:
            log.debug(_NOT_ENDED, exc_info=True)
            abandon(watched.recorder.call)
