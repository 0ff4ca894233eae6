"""The fake API itself: what each request gets (routing, scripted replies, headers, faults)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Optional

from anthropic_otel.testing._agents import AgentStore
from anthropic_otel.testing._batches import BatchStore
from anthropic_otel.testing._bedrock import CONTENT_TYPE as BEDROCK_STREAM
from anthropic_otel.testing._bedrock import bedrock_chunks, served_model
from anthropic_otel.testing._bodies import (
    PromptCache,
    count_input_tokens,
    message_body,
    missing_tool_results,
    sse_events,
)
from anthropic_otel.testing._chat import after_delay, answer_chat
from anthropic_otel.testing._http import Handler, RecordedRequest, Server
from anthropic_otel.testing._replies import ErrorReply, Fault, MessageReply, Reply, reply_from_json

__all__ = ["FakeClaudeAPI", "RecordedRequest"]

ORGANIZATION_ID = "5f3c9a1e-0d2b-4c7e-9f11-8a6b2c4d0e13"
RATE_LIMITS = {"requests": 50, "tokens": 100_000, "input-tokens": 80_000, "output-tokens": 20_000}
_MESSAGE_ROUTES = (
    re.compile(r"/v1/messages\Z"),
    re.compile(r".*/models/(?P<model>[^/:]+):(?:stream)?[Rr]awPredict\Z"),
    re.compile(r"/model/(?P<bedrock>[^/]+)/invoke(?P<stream>-with-response-stream)?\Z"),
)


class FakeClaudeAPI:
    """A local fake of the Claude API for tests and the demo. See the package docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: Optional[Server] = None
        self._thread: Optional[threading.Thread] = None
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._cache = PromptCache()
        self._sequence = itertools.count(1)
        self.batches = BatchStore(self._batch_answer)
        self.agents = AgentStore()
        self.last_headers: dict[str, str] = {}
        """The headers of the latest answer (request id, rate limits), for tests to compare with."""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeClaudeAPI:
        if self._server is None:
            self._server = Server(self._address, self)
            self._thread = threading.Thread(target=self._server.serve_forever, name="fake-claude-api", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeClaudeAPI:
        return self.start()

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeClaudeAPI is not running: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- scripting and inspection ------------------------------------------------------------
    def queue(self, *replies: Reply) -> None:
        """Replies for the next message requests (`/v1/messages`, platform routes), in order."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def reset(self) -> None:
        """Forget queued replies, recorded requests and managed-agent objects (whose lists are global)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.agents = AgentStore()

    def add_synthetic_batch(self, results: int) -> str:
        """A batch of `results` succeeded results, generated as they are read; returns its id."""
        return self.batches.add_synthetic(results, self.base_url)

    # -- serving -----------------------------------------------------------------------------
    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, headers: dict[str, str]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        scripted = headers.get("x-fake-reply")
        return reply_from_json(json.loads(scripted)) if scripted else MessageReply()

    def _headers(self, extra: Optional[Mapping[str, Optional[str]]] = None) -> dict[str, str]:
        sequence = next(self._sequence)
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        headers = {"request-id": f"req_{uuid.uuid4().hex[:24]}", "anthropic-organization-id": ORGANIZATION_ID}
        for kind, limit in RATE_LIMITS.items():
            used = 1 if kind == "requests" else 97
            headers[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{kind}-remaining"] = str(max(limit - used * (sequence % 50 or 50), 0))
            headers[f"anthropic-ratelimit-{kind}-reset"] = reset
        for key, value in (extra or {}).items():  # a header given as None is left out
            if value is None:
                headers.pop(key, None)
            else:
                headers[key] = value
        with self._lock:
            self.last_headers = headers
        return headers

    def route(self, handler: Handler, method: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        if method == "POST" and path == "/v1/chat/completions":  # the OpenAI compatibility layer (`_chat`)
            return answer_chat(self._headers, handler, self._next_reply(headers), body)
        for pattern in _MESSAGE_ROUTES:
            match = pattern.match(path)
            if match and method == "POST":
                found = match.groupdict()
                stream = bool(body.get("stream") or found.get("stream")) or ":streamRawPredict" in path
                bedrock = found.get("bedrock")
                model = served_model(bedrock) if bedrock else found.get("model")
                reply = self._next_reply(headers)
                self._answer_message(handler, reply, body, model, stream=stream, bedrock=bool(bedrock))
                return
        scripted = headers.get("x-fake-reply")
        if scripted:
            reply = reply_from_json(json.loads(scripted))
            if isinstance(reply, ErrorReply):
                self._answer_error(handler, reply)
                return
        if method == "POST" and (path.endswith("/messages/count_tokens") or path.endswith(":countTokens")):
            handler.send_json(200, {"input_tokens": count_input_tokens(body)}, self._headers())
        elif method == "POST" and path == "/v1/complete":
            self._answer_completion(handler, body)
        elif path.startswith("/v1/messages/batches"):
            self._answer_batches(handler, method, path, body)
        elif not self._answer_agents(handler, method, path, body):
            self._answer_error(handler, ErrorReply(404, message=f"fake: no route for {method} {path}"))

    def _answer_message(
        self,
        handler: Handler,
        reply: Reply,
        body: dict[str, Any],
        model: Optional[str],
        *,
        stream: bool,
        bedrock: bool = False,
    ) -> None:
        refusal = missing_tool_results(body)
        if refusal is not None:  # the real API checks this before anything else
            reply = ErrorReply(400, message=refusal)
        if isinstance(reply, ErrorReply):
            self._answer_error(handler, reply)
            return
        fault, message_reply, headers = after_delay(reply, self._headers)
        message = message_body(message_reply, body, self._cache, model)
        if fault is not None and fault.kind == "malformed_json":
            handler.head(200, {"content-type": "application/json", "content-length": "9", **headers})
            handler.wfile.write(b"{not json")
        elif fault is not None and fault.kind == "drop_mid_body":
            data = json.dumps(message).encode()
            handler.head(200, {"content-type": "application/json", "content-length": str(len(data)), **headers})
            handler.wfile.write(data[: len(data) // 2])
            handler.abort()
        elif stream:
            cut = fault if fault is not None and fault.kind in ("truncated_sse", "drop_mid_stream") else None
            events = sse_events(message)
            if fault is not None and fault.kind == "delta_without_usage":
                events = [
                    (name, {k: v for k, v in data.items() if name != "message_delta" or k != "usage"})
                    for name, data in events
                ]
            if bedrock:  # AWS event-stream framing, one message per event
                handler.send_event_stream(bedrock_chunks(events), headers, cut, BEDROCK_STREAM)
            else:
                handler.send_sse(events, headers, cut)
        else:
            handler.send_json(200, message, headers)

    def _answer_error(self, handler: Handler, reply: ErrorReply) -> None:
        extra = dict(reply.headers)
        if reply.retry_after is not None:
            extra["retry-after"] = f"{reply.retry_after:g}"
        headers = self._headers(extra)
        message = reply.message or f"fake {reply.type} ({reply.status})"
        payload = {
            "type": "error",
            "error": {"type": reply.type, "message": message},
            "request_id": headers["request-id"],
        }
        handler.send_json(reply.status, payload, headers)

    def _answer_completion(self, handler: Handler, body: dict[str, Any]) -> None:
        completion = {
            "type": "completion",
            "id": f"compl_{uuid.uuid4().hex[:24]}",
            "completion": " Hello from the fake API.",
            "stop_reason": "stop_sequence",
            "model": body.get("model", "claude-2.1"),
        }
        if body.get("stream"):
            chunks = [
                {**completion, "completion": word, "stop_reason": None} for word in (" Hello", " from the fake API.")
            ]
            events = [*(("completion", chunk) for chunk in chunks), ("completion", {**completion, "completion": ""})]
            handler.send_sse(events, self._headers(), None)
        else:
            handler.send_json(200, completion, self._headers())

    def _batch_answer(self, params: dict[str, Any]) -> dict[str, Any]:
        return message_body(MessageReply(service_tier="batch"), params, self._cache, None)

    def _answer_agents(self, handler: Handler, method: str, path: str, body: dict[str, Any]) -> bool:
        """Managed agents (`_agents`); False when there is no such route or object."""
        answer = self.agents.answer(method, path, body)
        if answer is None:
            return False
        kind, payload = answer
        if kind == "json":
            handler.send_json(200, payload, self._headers())
        else:
            handler.send_sse(payload, self._headers(), Fault.drop_mid_stream(2) if kind == "drop" else None)
        return True

    def _answer_batches(self, handler: Handler, method: str, path: str, body: dict[str, Any]) -> None:
        parts = path.rstrip("/").split("/")[4:]  # after /v1/messages/batches
        found: Any = None
        if method == "POST" and not parts:
            found = self.batches.create(body, self.base_url)
        elif method == "GET" and not parts:
            found = self.batches.list()
        elif method == "GET" and len(parts) == 1:
            found = self.batches.get(parts[0])
        elif method == "POST" and len(parts) == 2 and parts[1] == "cancel":
            found = self.batches.cancel(parts[0])
        elif method == "DELETE" and len(parts) == 1:
            found = self.batches.delete(parts[0])
        elif method == "GET" and len(parts) == 2 and parts[1] == "results":
            lines: Optional[Iterator[bytes]] = self.batches.results(parts[0])
            if lines is not None:
                handler.send_lines(lines, self._headers())
                return
        if found is None:
            self._answer_error(handler, ErrorReply(404, message=f"fake: no batch at {path}"))
        else:
            handler.send_json(200, found, self._headers())
