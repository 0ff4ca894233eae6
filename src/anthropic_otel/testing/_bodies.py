"""Response bodies shaped like the real Messages API: the JSON message and its SSE events.

Usage is deterministic so that tests can predict it: input tokens grow with the request's size,
output tokens with the reply's words. Requests with `cache_control` write the cached prefix the
first time and read it afterwards, like the real prompt cache.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import OrderedDict
from typing import Any, Optional

from anthropic_otel.testing._replies import MessageReply

__all__ = ["PromptCache", "count_input_tokens", "message_body", "missing_tool_results", "sse_events"]

DEFAULT_TEXT = "Thanks for reaching out. I have looked at your request and here is a short answer."
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):024x}"


def count_input_tokens(request: dict[str, Any]) -> int:
    """A stand-in tokenizer: about four characters a token, at least ten."""
    prompt = {key: request.get(key) for key in ("system", "messages", "tools")}
    return 10 + len(json.dumps(prompt, sort_keys=True, default=str)) // 4


def missing_tool_results(request: dict[str, Any]) -> Optional[str]:
    """The API's 400 message for an assistant `tool_use` not answered by `tool_result` in the next message."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return None
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if not isinstance(content, list):
            continue
        asked = [block.get("id") for block in content if isinstance(block, dict) and block.get("type") == "tool_use"]
        after = messages[index + 1] if index + 1 < len(messages) else None
        following = after.get("content") if isinstance(after, dict) else None
        answered = {
            block.get("tool_use_id")
            for block in (following if isinstance(following, list) else [])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        }
        missing = [str(tool_id) for tool_id in asked if tool_id not in answered]
        if missing and index + 1 < len(messages):
            return (
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in the "
                "next message."
            )
    return None


class PromptCache:
    """Which cached prefixes exist, so that a repeated prefix reads what the first one wrote."""

    def __init__(self, size: int = 1024) -> None:
        self._prefixes: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def usage(self, request: dict[str, Any]) -> Optional[dict[str, Any]]:
        """Cache fields for a request with `cache_control` breakpoints, else None."""
        prefix, ttl = _cached_prefix(request)
        if prefix is None:
            return None
        tokens = 10 + len(prefix) // 4
        key = hashlib.sha256(prefix.encode()).hexdigest()
        if key in self._prefixes:
            self._prefixes.move_to_end(key)
            return {"cache_read_input_tokens": tokens, "cache_creation_input_tokens": 0, "_cached": tokens}
        self._prefixes[key] = None
        if len(self._prefixes) > self._size:
            self._prefixes.popitem(last=False)
        split = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
        split["ephemeral_1h_input_tokens" if ttl == "1h" else "ephemeral_5m_input_tokens"] = tokens
        return {
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": tokens,
            "cache_creation": split,
            "_cached": tokens,
        }


def _cached_prefix(request: dict[str, Any]) -> tuple[Optional[str], Optional[str]]:
    """The serialized prompt up to and including its last `cache_control` block, and that block's TTL."""
    blocks: list[Any] = []
    for key in ("tools", "system", "messages"):
        value = request.get(key)
        if isinstance(value, list):
            for item in value:
                blocks.append(item)
                content = item.get("content") if isinstance(item, dict) else None
                if isinstance(content, list):
                    blocks.extend(content)
        elif value is not None:
            blocks.append(value)
    last, ttl = -1, None
    for index, block in enumerate(blocks):
        control = block.get("cache_control") if isinstance(block, dict) else None
        if isinstance(control, dict):
            last, ttl = index, control.get("ttl")
    if last < 0:
        return None, None
    return json.dumps(blocks[: last + 1], sort_keys=True, default=str), ttl


def _content(reply: MessageReply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "server_tool_use", "id": _id("srvtoolu"), "name": name, "input": {}} for name in reply.server_tools
    ]
    if reply.thinking is not None:
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": "fake-signature"})
    text = DEFAULT_TEXT if reply.text is None and not reply.tool_uses else reply.text
    if text:
        blocks.append({"type": "text", "text": text})
    for tool in reply.tool_uses:
        blocks.append({"type": "tool_use", "id": tool.id or _id("toolu"), "name": tool.name, "input": tool.input})
    return blocks


def message_body(
    reply: MessageReply, request: dict[str, Any], cache: PromptCache, model: Optional[str]
) -> dict[str, Any]:
    """The JSON body of a non-streamed answer."""
    content = _content(reply)
    words = sum(len(str(block.get("text", block.get("thinking", ""))).split()) for block in content)
    words += sum(len(json.dumps(block["input"])) // 4 for block in content if block["type"] == "tool_use")
    usage: dict[str, Any] = {
        "input_tokens": count_input_tokens(request),
        "output_tokens": max(words, 1),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "service_tier": reply.service_tier,
    }
    cached = cache.usage(request) if reply.usage is None else None
    if cached is not None:
        usage["input_tokens"] = max(usage["input_tokens"] - cached.pop("_cached"), 1)
        usage.update(cached)
    if reply.server_tool_use is not None:
        usage["server_tool_use"] = dict(reply.server_tool_use)
    if reply.usage is not None:
        usage.update(reply.usage)
        if "cache_creation" not in reply.usage and "cache_creation_input_tokens" in reply.usage:
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": reply.usage["cache_creation_input_tokens"],
                "ephemeral_1h_input_tokens": 0,
            }
    stop = reply.stop_reason or ("tool_use" if reply.tool_uses else "end_turn")
    return {
        "id": _id("msg"),
        "type": "message",
        "role": "assistant",
        "model": reply.model or model or request.get("model", "claude-sonnet-4-6"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _chunks(text: str, size: int) -> list[str]:
    return [text[index : index + size] for index in range(0, len(text), size)] or [""]


def sse_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events of a streamed answer, in the real API's order, with cumulative usage at the end."""
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("server_tool_use", None)
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {"type": "message_start", "message": {**message, "content": [], "stop_reason": None, "usage": start_usage}},
        ),
    ]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        empty: dict[str, dict[str, Any]] = {
            "text": {"type": "text", "text": ""},
            "thinking": {"type": "thinking", "thinking": "", "signature": ""},
        }
        start = empty.get(kind) or {**block, "input": {}}
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        if kind == "text":
            deltas = [{"type": "text_delta", "text": part} for part in _word_chunks(block["text"])]
        elif kind == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": part} for part in _word_chunks(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            deltas = [
                {"type": "input_json_delta", "partial_json": part} for part in _chunks(json.dumps(block["input"]), 7)
            ]
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}) for delta in deltas
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    final_usage = {key: value for key, value in usage.items() if key not in ("cache_creation", "service_tier")}
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _word_chunks(text: str) -> list[str]:
    """Text split into pieces of two words, spaces kept, so that joining them gives the text back."""
    words = text.split(" ")
    return [
        " ".join(words[index : index + 2]) + (" " if index + 2 < len(words) else "")
        for index in range(0, len(words), 2)
    ]
