"""The fake API's `/v1/chat/completions`: the Claude API's OpenAI compatibility layer, as the `openai` SDK sees it.

Answers are the same scripted replies as `/v1/messages` (`MessageReply`, `ErrorReply`, `Fault`),
rendered in the OpenAI format: a `chat.completion` JSON body, or `chat.completion.chunk` SSE
lines (no `event:` names) ending in `data: [DONE]`, with usage in a last chunk of no choices
only when `stream_options.include_usage` asks for it, as OpenAI does. Like the real layer it
ignores what the Messages API would do with prompt caching (no cache usage, ever) and returns no
thinking text. Errors carry the OpenAI error body (`{"error": {"message", "type", "param",
"code"}}`) with the Claude API's error types, and every answer the Claude API's `request-id`
and `anthropic-ratelimit-*` headers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Callable, Optional

from anthropic_otel.testing._bodies import PromptCache, _word_chunks, message_body
from anthropic_otel.testing._http import Handler
from anthropic_otel.testing._replies import ErrorReply, Fault, MessageReply, Reply

__all__ = ["answer_chat", "chat_chunks", "chat_completion"]

# How a Messages API stop reason reads in the OpenAI format.
FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


class _NoCache(PromptCache):
    """The compatibility layer does not support prompt caching: `cache_control` is ignored."""

    def usage(self, request: dict[str, Any]) -> Optional[dict[str, Any]]:
        return None


def _message(reply: MessageReply, request: dict[str, Any]) -> dict[str, Any]:
    """The Messages API answer behind the compat answer, usage computed from the OpenAI request."""
    prompt = {"messages": request.get("messages"), "tools": request.get("tools")}
    return message_body(reply, {**prompt, "model": request.get("model")}, _NoCache(), None)


def _usage(message: dict[str, Any]) -> dict[str, int]:
    usage = message["usage"]
    prompt = usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
    completion = usage["output_tokens"]
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": block["id"],
            "type": "function",
            "function": {"name": block["name"], "arguments": json.dumps(block["input"])},
        }
        for block in message["content"]
        if block["type"] == "tool_use"
    ]


def chat_completion(reply: MessageReply, request: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a non-streamed chat completion. Thinking blocks are dropped, as the layer drops them."""
    message = _message(reply, request)
    text = "".join(block["text"] for block in message["content"] if block["type"] == "text")
    answer: dict[str, Any] = {"role": "assistant", "content": text or None}
    tool_calls = _tool_calls(message)
    if tool_calls:
        answer["tool_calls"] = tool_calls
    return {
        "id": message["id"],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": message["model"],
        "choices": [
            {"index": 0, "message": answer, "finish_reason": FINISH_REASONS.get(message["stop_reason"], "stop")}
        ],
        "usage": _usage(message),
    }


def chat_chunks(reply: MessageReply, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a streamed answer, in order (without `[DONE]`)."""
    message = _message(reply, request)
    head = {"id": message["id"], "object": "chat.completion.chunk", "created": int(time.time())}
    head["model"] = message["model"]

    def chunk(delta: dict[str, Any], finish: Optional[str] = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    for block in message["content"]:
        if block["type"] == "text":
            chunks.extend(chunk({"content": part}) for part in _word_chunks(block["text"]))
    for index, call in enumerate(_tool_calls(message)):
        chunks.append(chunk({"tool_calls": [{"index": index, **call}]}))
    chunks.append(chunk({}, FINISH_REASONS.get(message["stop_reason"], "stop")))
    options = request.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append({**head, "choices": [], "usage": _usage(message)})
    return chunks


Headers = Callable[[Mapping[str, Optional[str]]], dict[str, str]]


def after_delay(reply: Reply, headers_for: Headers) -> tuple[Optional[Fault], MessageReply, dict[str, str]]:
    """A non-error `reply` as its fault (if any), the message to send and its headers, after the
    delay it asks for.

    The Messages and the chat completions endpoints answer the same replies the same way up to here.
    The headers are worked out before the wait: `last_headers` is then always the latest request's,
    never that of a request whose client gave up waiting and was followed by others.
    """
    fault = reply if isinstance(reply, Fault) else None
    message_reply = reply if isinstance(reply, MessageReply) else MessageReply()
    headers = headers_for(message_reply.headers)
    delay = message_reply.delay + (fault.seconds if fault is not None and fault.kind == "delay" else 0.0)
    if delay:
        time.sleep(delay)
    return fault, message_reply, headers


def answer_chat(headers_for: Headers, handler: Handler, reply: Reply, request: dict[str, Any]) -> None:
    """Answer one `POST /v1/chat/completions` with `reply`; `headers_for(extra)` gives the answer's headers."""
    if isinstance(reply, ErrorReply):
        extra = dict(reply.headers)
        if reply.retry_after is not None:
            extra["retry-after"] = f"{reply.retry_after:g}"
        error = {"message": reply.message or f"fake {reply.type} ({reply.status})", "type": reply.type}
        handler.send_json(reply.status, {"error": {**error, "param": None, "code": None}}, headers_for(extra))
        return
    fault, message_reply, headers = after_delay(reply, headers_for)
    if not request.get("stream"):
        handler.send_json(200, chat_completion(message_reply, request), headers)
        return
    lines = [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chat_chunks(message_reply, request)]
    lines.append(b"data: [DONE]\n\n")
    cut = fault if fault is not None and fault.kind in ("truncated_sse", "drop_mid_stream") else None
    handler.send_event_stream(lines, headers, cut)
