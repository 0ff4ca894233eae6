"""The hooks on what the application reads after a call returned: `close()` and `parse()`.

Streams and batch results decoders are watched in place (`watch`); closing one ends its call. A
raw response whose body is unread ends its call when `parse()` reads it, or it is closed. Each hook
runs the SDK's own method first, untouched, and guards what it does after.
"""

from __future__ import annotations

import logging
from typing import Any

from anthropic_otel._call import results
from anthropic_otel._call.watch import close_watched
from anthropic_otel._hooks.active import Wrapped

__all__ = ["close", "close_async", "close_response", "close_response_async", "parse", "parse_async"]

log = logging.getLogger("anthropic_otel.lifecycle")


def close(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`close()` of a stream or a batch results decoder: the application is done with it."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        try:
            close_watched(instance)
        except Exception:
            log.debug("anthropic-otel: could not end a closed result's call", exc_info=True)


async def close_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`close()` of an async stream or batch results decoder."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        try:
            close_watched(instance)
        except Exception:
            log.debug("anthropic-otel: could not end a closed result's call", exc_info=True)


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


def close_response(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`APIResponse.close()`: a raw response closed, perhaps unread."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        try:
            results.closed(instance)
        except Exception:
            log.debug("anthropic-otel: could not end a closed response's call", exc_info=True)


async def close_response_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`AsyncAPIResponse.close()`."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        try:
            results.closed(instance)
        except Exception:
            log.debug("anthropic-otel: could not end a closed response's call", exc_info=True)
