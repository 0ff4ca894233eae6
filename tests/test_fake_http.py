"""The fake API's HTTP server: clients that hang up on purpose leave no traceback in test output, and
a client that gave up waiting does not disturb the answers after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
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


def _handler_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if "process_request_thread" in thread.name]


def test_last_headers_are_the_latest_answers_when_an_earlier_request_waits_longer() -> None:
    """A request whose client gave up waiting (a timeout test) must not overwrite, once its delay is
    over, the headers of the answers that came after it: tests compare span attributes with them."""
    body = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    others = set(_handler_threads())  # those of the suite's shared fake API, on this worker
    with FakeClaudeAPI() as api:
        api.queue(MessageReply(text="late", delay=0.5), MessageReply(text="now"))
        with httpx.Client(base_url=api.base_url, headers={"connection": "close"}) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.post("/v1/messages", json=body, timeout=0.05)
            _wait_for(lambda: len(api.requests) == 1)
            answer = client.post("/v1/messages", json=body, timeout=HANG)
        _wait_for(lambda: set(_handler_threads()) <= others)  # the late one has woken up and given up too
        assert api.last_headers["request-id"] == answer.headers["request-id"]


HANG = 60.0  # seconds: only a hang gets there


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        assert time.monotonic() < deadline, "hang"
        time.sleep(0.01)
