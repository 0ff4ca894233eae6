"""What a call returned: end the call now, or when the application is done reading what it got.

`adopt` runs when the SDK's `request()` returns. A parsed body (a `Message`, a batch, a page)
ends the call at once. A result that is read later is watched in place, and the application gets
it untouched: a stream or batch results decoder (`message_stream`, `event_stream`,
`batch_results`), or a raw response whose body is still unread (`with_streaming_response`, or
`with_raw_response` on a streamed call). That call ends when the application parses the body
(`parse()` gives the Message, whose usage is recorded, or a stream, which is then watched), closes
the response, or drops it: class-level hooks on `parse` and `close` (`parsed`, `closed`) and a
finalizer on the response itself, never a proxy.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from anthropic_otel._call.batch_results import watch_batch_results
from anthropic_otel._call.call import Call
from anthropic_otel._call.collected import collected
from anthropic_otel._call.end import abandon, end
from anthropic_otel._call.event_stream import watch_event_stream
from anthropic_otel._call.message_stream import watch_stream
from anthropic_otel._call.outcome import Outcome, ResponseHead, final_response, read, response_body
from anthropic_otel._call.watch import Recorder

__all__ = ["adopt", "closed", "parsed"]

log = logging.getLogger("anthropic_otel.lifecycle")

# Raw responses whose body is unread, and the recorder that ends their call.
_unread: weakref.WeakKeyDictionary[Any, Recorder] = weakref.WeakKeyDictionary()


def adopt(call: Call, result: Any) -> None:
    """`request()` returned `result`: end the call, or watch what the application reads later. Never raises.

    A parsed body (a pydantic model) never needs watching: the class check spares it the lookups.
    """
    try:
        call.response = final_response(call, result, None)
        if not hasattr(type(result), "__pydantic_fields__"):
            # Keep the status and headers, not the response, of what is read later (see `ResponseHead`).
            head = ResponseHead.of(call.response)
            if _watch_iterated(call, result) or _watch_unread(call, result):
                call.response = head
                call.memo.clear()  # it may hold the response too (as the key of its header attributes)
                return
        outcome = Outcome(call.response, response_body(result))
    except Exception:
        log.debug("anthropic-otel: could not read what a call returned", exc_info=True)
        outcome = Outcome(call.response)
    end(call, read(call, outcome))


def _watch_iterated(call: Call, result: Any) -> bool:
    return watch_batch_results(call, result) or watch_event_stream(call, result) or watch_stream(call, result)


def _watch_unread(call: Call, result: Any) -> bool:
    raw = getattr(result, "http_response", None)
    if raw is None or getattr(raw, "is_closed", True):
        return False
    recorder = _UnreadBody(call)
    _unread[result] = recorder
    weakref.finalize(result, collected, _dropped, recorder)
    return True


class _UnreadBody(Recorder):
    """The call of a raw response whose body is unread: `parse()` reads it, then gives us the answer,
    so the SDK's span (1.14+) waits for the answer to go on it."""

    __slots__ = ()
    holds_sdk_span = True


def parsed(response: Any, result: Any) -> None:
    """The application parsed an unread `response` into `result`: a Message, or a stream to watch.

    The SDK parses every response itself too: with nothing unread (the rule), this costs one check.
    """
    if not _unread:
        return
    recorder = _unread.pop(response, None)
    if recorder is None:
        return
    call = recorder.call
    call.watcher = None
    if call.ended or _watch_iterated(call, result):
        return
    end(call, read(call, Outcome(call.response, response_body(result))))


def closed(response: Any) -> None:
    """The application closed an unread `response` without parsing it."""
    if not _unread:
        return
    recorder = _unread.pop(response, None)
    if recorder is not None:
        try:
            recorder.finish()
        except Exception:
            log.debug("anthropic-otel: could not end a call", exc_info=True)
            abandon(recorder.call)


def _dropped(recorder: Recorder) -> None:
    """An unread response was collected: end its call, unless a stream it gave took it over."""
    try:
        if recorder.call.watcher is recorder:
            recorder.finish()
    except Exception:
        log.debug("anthropic-otel: could not end a call", exc_info=True)
        abandon(recorder.call)
