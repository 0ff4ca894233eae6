"""`Recording`: one call recorded around the SDK's own method, for every wrapper that starts a call.

The wrappers of `request()` (Anthropic SDK) and `chat.completions.create` (`openai`), sync and
async, differ only in how the call starts, what ends it, and whether they await, so one factory
makes them all (`recording_hooks`): each is

    recording = Recording(begin, instance, args, kwargs, adopt)  # never raises; call None: stay out
    if recording.call is None:
        return wrapped(*args, **kwargs)
    with recording:
        recording.result = wrapped(*args, **kwargs)   # or `await wrapped(...)`
    return recording.result

On leaving the block the call is left (the contextvars restored) and ended with the error it raised,
or handed with its result to `adopt`, which ends it or watches what the application reads later.
Whatever of ours fails is logged at debug level and swallowed (the call's span is still ended:
`end.abandon`); the application's result or exception passes through untouched.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Callable, Optional

from opentelemetry import context as otel_context

from anthropic_otel._call.call import CURRENT, Call, CallToken, enter
from anthropic_otel._call.end import abandon, end
from anthropic_otel._call.outcome import Outcome, final_response, read
from anthropic_otel._hooks.active import Wrapped

__all__ = ["Recording", "recording_hooks"]

log = logging.getLogger("anthropic_otel.lifecycle")

Begin = Callable[[Any, tuple[Any, ...], dict[str, Any]], Optional[Call]]
Adopt = Callable[[Call, Any], None]


class Recording:
    """One call, from its start to what the SDK's method returned or raised."""

    __slots__ = ("_adopt", "call", "result", "token")

    def __init__(
        self, begin: Begin, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], adopt: Adopt
    ) -> None:
        self._adopt = adopt
        self.call: Optional[Call] = None
        self.token: Optional[CallToken] = None
        self.result: Any = None
        try:
            self.call = begin(instance, args, kwargs)
            if self.call is not None:
                self.token = enter(self.call)
        except Exception:
            log.debug("anthropic-otel: could not start recording a call", exc_info=True)

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        call = self.call
        if call is None:
            return
        if self.token is not None:  # undone here, step by step, rather than by a function that could fail
            call_token, context_token = self.token
            try:
                CURRENT.reset(call_token)
            except Exception:
                log.debug("anthropic-otel: could not leave a call", exc_info=True)
            try:
                if context_token is not None:
                    otel_context.detach(context_token)  # type: ignore[arg-type]
            except Exception:
                log.debug("anthropic-otel: could not restore the context of a call", exc_info=True)
        try:
            if error is not None:
                end(call, read(call, Outcome(final_response(call, None, error), None, error)))
            else:
                self._adopt(call, self.result)
        except Exception:
            log.debug("anthropic-otel: could not record the end of a call", exc_info=True)
            abandon(call)


Hook = Callable[[Wrapped, Any, tuple[Any, ...], dict[str, Any]], Any]


def recording_hooks(begin: Begin, adopt: Adopt) -> tuple[Hook, Hook]:
    """The sync and the async wrapper of a method that makes one call: `begin(instance, args, kwargs)`
    starts the call (None: stay out of it), `adopt` ends it with what it returned."""

    def record_sync(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        recording = Recording(begin, instance, args, kwargs, adopt)
        if recording.call is None:
            return wrapped(*args, **kwargs)
        with recording:
            recording.result = wrapped(*args, **kwargs)
        return recording.result

    async def record_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        recording = Recording(begin, instance, args, kwargs, adopt)
        if recording.call is None:
            return await wrapped(*args, **kwargs)
        with recording:
            recording.result = await wrapped(*args, **kwargs)
        return recording.result

    return record_sync, record_async
