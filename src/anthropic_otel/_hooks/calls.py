"""The hooks on the SDK's `request()` and the points inside it that report to the running call.

`request` (sync and async, which differ only in whether they await) starts a call
(`start.begin`), makes it current, and hands what the SDK returned to `results.adopt`, or ends the
call with the error it raised. The deeper hooks only report facts (an attempt, a response, a
retry, the SDK's span, the end of a body) into the current call, so they cost a contextvar read
when no call is being recorded.

These are places where our code runs inside the application's call, so each one guards every step
it takes into ours: an error of ours is logged at debug level and swallowed, and the SDK's result
or exception passes through untouched.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from anthropic_otel._call import results, sdk_span, start
from anthropic_otel._call.call import CURRENT, Call, note_attempt, note_retry
from anthropic_otel._hooks import active
from anthropic_otel._hooks.active import Wrapped
from anthropic_otel._hooks.recording import recording_hooks

__all__ = [
    "body_end",
    "build_request",
    "finish_api_call_span",
    "process_response",
    "request_async",
    "request_sync",
    "should_retry",
]

log = logging.getLogger("anthropic_otel.lifecycle")


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Call]:
    telemetry = active.telemetry
    return start.begin(telemetry, instance, args, kwargs) if telemetry is not None else None


# `SyncAPIClient.request` and `AsyncAPIClient.request`: one call, with every retry.
request_sync, request_async = recording_hooks(_begin, results.adopt)


def build_request(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._build_request`: called once per HTTP attempt, with `retries_taken`."""
    request = wrapped(*args, **kwargs)
    call = CURRENT.get()
    if call is not None:
        try:
            note_attempt(call, int(kwargs.get("retries_taken", 0)), request)
        except Exception:
            log.debug("anthropic-otel: could not note an attempt", exc_info=True)
    return request


def process_response(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`{Sync,Async}APIClient._process_response`: sees the successful HTTP response (headers).

    Works for the async variant too: the response is an argument, so nothing needs awaiting here.
    """
    call = CURRENT.get()
    if call is not None:
        response = kwargs.get("response")
        if response is not None:
            call.response = response
    return wrapped(*args, **kwargs)


def should_retry(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._should_retry(response)`: asked for each failed attempt; a True answer means a retry.

    The one place every SDK version shows the response of an attempt it retries (429s included),
    which otherwise never reaches the application or `_process_response`.
    """
    retry = wrapped(*args, **kwargs)
    call = CURRENT.get()
    if retry is True and call is not None:
        try:
            note_retry(call, args[0] if args else kwargs.get("response"))
        except Exception:
            log.debug("anthropic-otel: could not note a retry", exc_info=True)
    return retry


def finish_api_call_span(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`anthropic._base_client.finish_api_call_span(client, span, result)` (SDK 1.14+)."""
    if len(args) >= 3:
        try:
            sdk_span.enrich(args[1], args[2])
        except Exception:
            log.debug("anthropic-otel: could not enrich the SDK's span", exc_info=True)
    return wrapped(*args, **kwargs)


def body_end(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`anthropic._tracing.FirstEnd.end(how, error)` (1.14+): the SDK ends the span of a body read later."""
    if not getattr(instance, "_ended", True):
        try:
            how = args[0] if args else kwargs.get("how", "")
            error = args[1] if len(args) > 1 else kwargs.get("error")
            if sdk_span.body_ending(instance.inner, how, error, lambda: wrapped(*args, **kwargs)):
                return None  # held back: the call's end ends the span
        except Exception:
            log.debug("anthropic-otel: could not record the end of a body on the SDK's span", exc_info=True)
    return wrapped(*args, **kwargs)
