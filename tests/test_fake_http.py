"""The fake API's HTTP server: clients that hang up on purpose leave no traceback in test output."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anthropic_otel.testing import FakeClaudeAPI
from anthropic_otel.testing._http import Router, Server


class _NoRoutes:
    def record(self, request: object) -> None: ...

    def route(self, *args: object) -> None: ...


@pytest.fixture
def server() -> Iterator[Server]:
    router: Router = _NoRoutes()  # type: ignore[assignment]
    made = Server(("127.0.0.1", 0), router)
    yield made
    made.server_close()


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"), TimeoutError()])
def test_a_client_hanging_up_is_not_reported(
    server: Server, error: BaseException, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        raise error
    except OSError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""


def test_any_other_error_of_the_server_is_still_printed(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("a bug in the fake API")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 1))
    err = capsys.readouterr().err
    assert "Exception occurred during processing of request from ('127.0.0.1', 1)" in err
    assert "ValueError: a bug in the fake API" in err


def test_the_running_fake_api_serves_with_this_server() -> None:
    with FakeClaudeAPI() as api:
        assert isinstance(api._server, Server)
