"""route() and conversation(): contextvar scopes, decorators, baggage, and the cardinality cap."""

from __future__ import annotations

import asyncio
import logging

import pytest
from opentelemetry import baggage, context

from anthropic_otel._routes import OTHER, RouteLimiter, conversation, current_conversation, current_route, route


def test_route_is_a_nested_context_manager() -> None:
    limiter = RouteLimiter(10)
    assert current_route(limiter) is None
    with route("outer"):
        assert current_route(limiter) == "outer"
        with route("inner"):
            assert current_route(limiter) == "inner"
        assert current_route(limiter) == "outer"
    assert current_route(limiter) is None


def test_route_decorates_sync_and_async_functions() -> None:
    limiter = RouteLimiter(10)

    @route("sync-job")
    def sync_job() -> str | None:
        return current_route(limiter)

    @route("async-job")
    async def async_job() -> str | None:
        await asyncio.sleep(0)
        return current_route(limiter)

    assert sync_job() == "sync-job"
    assert asyncio.run(async_job()) == "async-job"
    assert current_route(limiter) is None


def test_concurrent_tasks_keep_their_own_route() -> None:
    limiter = RouteLimiter(100)

    async def task(name: str) -> str | None:
        async with route(name):
            await asyncio.sleep(0.01)
            return current_route(limiter)

    async def main() -> list[str | None]:
        return await asyncio.gather(*(task(f"r{index}") for index in range(20)))

    assert asyncio.run(main()) == [f"r{index}" for index in range(20)]


def test_baggage_route_is_used_when_no_scope_is_set() -> None:
    limiter = RouteLimiter(10)
    token = context.attach(baggage.set_baggage("anthropic.route", "from-upstream"))
    try:
        assert current_route(limiter) == "from-upstream"
        with route("local"):
            assert current_route(limiter) == "local"
    finally:
        context.detach(token)


def test_150_routes_collapse_to_100_and_other_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RouteLimiter(100)
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        admitted = [limiter.admit(f"route-{index}") for index in range(150)]
    assert admitted[:100] == [f"route-{index}" for index in range(100)]
    assert admitted[100:] == [OTHER] * 50
    assert limiter.admit("route-7") == "route-7"
    warnings = [record for record in caplog.records if "ANTHROPIC_OTEL_MAX_ROUTES" in record.message]
    assert len(warnings) == 1


def test_conversation_scope() -> None:
    assert current_conversation() is None
    with conversation("conv-123"):
        assert current_conversation() == "conv-123"
    assert current_conversation() is None


@pytest.mark.parametrize("bad", ["", None, 5])
def test_empty_names_are_refused_with_a_clear_error(bad: object) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        route(bad)  # type: ignore[arg-type]
