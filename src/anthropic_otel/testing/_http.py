"""The HTTP side of the fake API: a threaded loopback server and the ways an answer goes on the wire.

JSON bodies, chunked JSONL (batch results), server-sent events (the Messages API's streams, the
managed agents' event streams, OpenAI-format chunks) and AWS event-stream frames (Bedrock's
`invoke-with-response-stream`), each optionally cut short. What to answer is the router's
(`FakeClaudeAPI`), which this module knows only as the `Router` protocol.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, Protocol
from urllib.parse import urlsplit

from anthropic_otel.testing._replies import Fault

__all__ = ["Handler", "RecordedRequest", "Router", "Server"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake API received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any


class Router(Protocol):
    """What the server hands each request to."""

    def record(self, request: RecordedRequest) -> None: ...

    def route(
        self, handler: Handler, method: str, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> None: ...


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle + delayed ACK add ~40 ms per answer.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines would only add noise to test output."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        url = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        router = self.server.router
        router.record(RecordedRequest(method, url.path, url.query, headers, body))
        try:
            router.route(self, method, url.path, headers, body if isinstance(body, dict) else {})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- writing ---------------------------------------------------------------------------
    def send_json(self, status: int, payload: Any, extra: Optional[dict[str, str]] = None) -> None:
        data = json.dumps(payload).encode()
        self.head(status, {"content-type": "application/json", "content-length": str(len(data)), **(extra or {})})
        self.wfile.write(data)

    def send_lines(self, lines: Iterable[bytes], extra: dict[str, str]) -> None:
        """A chunked body (JSONL results), generated lazily."""
        self.head(200, {"content-type": "application/binary", "transfer-encoding": "chunked", **extra})
        for line in lines:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.wfile.write(b"0\r\n\r\n")

    def send_sse(self, events: list[tuple[str, dict[str, Any]]], extra: dict[str, str], fault: Optional[Fault]) -> None:
        """An SSE body of named events (the Messages API's stream)."""
        chunks = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
        self.send_event_stream(chunks, extra, fault)

    def send_event_stream(
        self,
        chunks: list[bytes],
        extra: dict[str, str],
        fault: Optional[Fault],
        content_type: str = "text/event-stream",
    ) -> None:
        """Encoded stream chunks (SSE, or AWS event-stream frames), chunked; `fault` stops after its
        `after_events`, and a dropped stream stops without the final chunk, so clients see an error."""
        self.head(
            200, {"content-type": content_type, "transfer-encoding": "chunked", "cache-control": "no-cache", **extra}
        )
        limit = fault.after_events if fault is not None else len(chunks)
        for chunk in chunks[:limit]:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        if fault is not None and fault.kind == "drop_mid_stream":
            self.abort()
            return
        self.wfile.write(b"0\r\n\r\n")

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def abort(self) -> None:
        """Break the connection without finishing the response."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        self.router = router
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a stream closed early, a timeout tried) is what tests do on purpose.

        socketserver would print its traceback into the test output; anything else is still printed.
        """
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)
