"""The hooks on what the application reads after a call returned: `close()` and `parse()`.

Streams and batch results decoders are watched in place (`watch`); closing one ends its call. A
raw response whose body is unread ends its call when `parse()` reads it, or it is closed. Each hook
runs the SDK's own method first, untouched, and guards what it does after.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from anthropic_otel._call import results
from anthropic_otel._call.watch import close_watched
from anthropic_otel._hooks.active import Wrapped

__all__ = ["close", "close_async", "close_response", "close_response_async", "parse", "parse_async"]

log = logging.getLogger("anthropic_otel.lifecycle")


def parse(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`APIResponse.parse()` / `LegacyAPIResponse.parse()`: the application reads a raw response's body."""
    result = wrapped(*args, **kwargs)
    try:
        results.parsed(instance, result)
    except Exception:
        log.debug("anthropic-otel: could not record a parsed response", exc_info=True)
    return result


async def parse_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`AsyncAPIResponse.parse()`."""
    result = await wrapped(*args, **kwargs)
    try:
        results.parsed(instance, result)
    except Exception:
        log.debug("anthropic-otel: could not record a parsed response", exc_info=True)
    return result


Hook = Callable[[Wrapped, Any, tuple[Any, ...], dict[str, Any]], Any]


def _closing(ended: Callable[[Any], None], what: str) -> tuple[Hook, Hook]:
    """The sync and the async hook on a `close()`: the SDK's own first, untouched; then `ended(instance)`,
    guarded (`what` was closed, for the log)."""

    def close_sync(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            _quietly(ended, instance, what)

    async def close_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            _quietly(ended, instance, what)

    return close_sync, close_async


def _quietly(ended: Callable[[Any], None], instance: Any, what: str) -> None:
    try:
        ended(instance)
    except Exception:
        log.debug("anthropic-otel: could not end the call of a closed %s", what, exc_info=True)


# `close()` of a stream or a batch results decoder, sync and async: the application is done with it.
close, close_async = _closing(close_watched, "result")
# `APIResponse.close()` and `AsyncAPIResponse.close()`: a raw response closed, perhaps unread.
close_response, close_response_async = _closing(results.closed, "response")
