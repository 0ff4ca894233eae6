"""Raw responses whose body the application reads later (`with_streaming_response`, or
`with_raw_response` on a streamed call).

Such a call returns before its body has been read, so the call is finished when the application
parses the body (`parse()` gives the Message, whose usage we record, or a stream, which the
stream proxy then finishes), closes the response, or drops it. Like streams, exactly once.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional

from wrapt import ObjectProxy

from anthropic_otel.streaming import wrap_stream

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

    _Proxy = ObjectProxy[Any]
else:
    _Proxy = ObjectProxy  # older wrapt releases are not subscriptable

__all__ = ["wrap_unread_response"]

Complete = Callable[..., None]


class DeferredCall:
    """Finishes a call when its raw response is parsed, closed or dropped; at most once."""

    __slots__ = ("__weakref__", "complete", "finished", "record")

    def __init__(self, record: CallRecord, complete: Complete) -> None:
        self.record = record
        self.complete = complete
        self.finished = False

    def parsed(self, result: Any) -> Any:
        """The application parsed the body into `result`: a Message, or a stream to follow."""
        if self.finished:
            return result
        stream = wrap_stream(self.record, result, self.complete)
        self.finished = True
        if stream is not None:
            return stream
        self.complete(self.record, self.record.response, result, None)
        return result

    def finish(self) -> None:
        """Closed or dropped unparsed: end with what the headers told."""
        if not self.finished:
            self.finished = True
            self.complete(self.record, self.record.response, None, None)


def _finalize(call: DeferredCall) -> None:
    call.finish()


class RawResponseProxy(_Proxy):
    """`APIResponse` / `LegacyAPIResponse` with an unread body."""

    def __init__(self, response: Any, call: DeferredCall) -> None:
        super().__init__(response)
        self._self_call = call
        weakref.finalize(self, _finalize, call)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_call.parsed(self.__wrapped__.parse(*args, **kwargs))

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_call.finish()


class AsyncRawResponseProxy(_Proxy):
    """`AsyncAPIResponse` with an unread body."""

    def __init__(self, response: Any, call: DeferredCall) -> None:
        super().__init__(response)
        self._self_call = call
        weakref.finalize(self, _finalize, call)

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_call.parsed(await self.__wrapped__.parse(*args, **kwargs))

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_call.finish()


def wrap_unread_response(record: CallRecord, result: Any, complete: Complete) -> Optional[Any]:
    """A proxy for a raw response whose body is still unread, else None."""
    raw = getattr(result, "http_response", None)
    if raw is None or getattr(raw, "is_closed", True):
        return None
    call = DeferredCall(record, complete)
    if type(result).__name__ == "AsyncAPIResponse":
        return AsyncRawResponseProxy(result, call)
    return RawResponseProxy(result, call)
