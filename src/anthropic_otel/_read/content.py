"""Prompt and completion content in the OpenTelemetry GenAI "parts" format, and its truncation.

Pure functions, no OpenTelemetry state: a Messages request body becomes `gen_ai.system_instructions`,
`gen_ai.input.messages` and `gen_ai.tool.definitions`; a response's content blocks (or what a
stream's deltas built) become `gen_ai.output.messages`. Blocks map to parts exactly as the SDK's
own content capture (1.14+) maps them (`text`, `reasoning`, `tool_call`, `tool_call_response`,
`anthropic_<type>` for anything else, image and document data left out), so switching from the
SDK's capture to ours changes no part. Output messages also carry semconv's `finish_reason`.

Truncation is per value: every string is cut to `limit` characters, and a tool call's
`arguments` whose JSON is longer than `limit` become the first `limit` characters of that JSON.
A stream keeps at most `limit` characters per content block (`StreamedContent`), never more.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from anthropic_otel._read.attributes import field

__all__ = [
    "CONTENT_KEYS",
    "INPUT",
    "OUTPUT",
    "SYSTEM",
    "TOOLS",
    "TRUNCATED",
    "Content",
    "StreamedContent",
    "bound",
    "content_parts",
    "output_messages",
    "request_content",
    "to_json",
]

SYSTEM = "gen_ai.system_instructions"
INPUT = "gen_ai.input.messages"
OUTPUT = "gen_ai.output.messages"
TOOLS = "gen_ai.tool.definitions"
CONTENT_KEYS = (SYSTEM, INPUT, OUTPUT, TOOLS)
# The SDK's own marker of a span whose content lost something to the limit.
TRUNCATED = "anthropic.content.truncated"

# Attribute key -> its semconv structure (lists of dicts), before it is serialized.
Content = dict[str, Any]

_TOOL_CALLS = ("tool_use", "server_tool_use", "mcp_tool_use")


def to_json(value: object) -> str:
    """Compact JSON, as the SDK writes its content attributes; anything JSON cannot hold becomes its `str()`."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def request_content(body: object) -> Content:
    """System instructions, input messages and tool definitions of a Messages request body (unbounded)."""
    content: Content = {}
    system = field(body, "system")
    if isinstance(system, (str, list, tuple)):  # not None, nor the SDK's NOT_GIVEN / omit markers
        content[SYSTEM] = content_parts(system)
    messages = field(body, "messages")
    content[INPUT] = [
        {"role": str(field(message, "role") or "user"), "parts": content_parts(field(message, "content"))}
        for message in (messages if isinstance(messages, (list, tuple)) else ())
    ]
    tools = field(body, "tools")
    if isinstance(tools, (list, tuple)) and tools:
        content[TOOLS] = [_tool_definition(tool) for tool in tools]
    return content


def output_messages(blocks: object, finish_reason: object) -> list[dict[str, Any]]:
    """`gen_ai.output.messages` of a response whose content is `blocks`: one assistant message."""
    message: dict[str, Any] = {"role": "assistant", "parts": content_parts(blocks)}
    if isinstance(finish_reason, str):
        message["finish_reason"] = finish_reason
    return [message]


def _tool_definition(tool: object) -> dict[str, Any]:
    """Semconv's default tool definition: type and name (description and schema are not recommended by default)."""
    kind = field(tool, "type")
    return {"type": "function" if kind in (None, "custom") else str(kind), "name": field(tool, "name")}


def content_parts(content: object) -> list[dict[str, Any]]:
    """The parts of a message's `content`: a string, or a list of content blocks."""
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, (list, tuple)):
        return [_part(block) for block in content]
    return []


def _part(block: object) -> dict[str, Any]:
    kind = field(block, "type")
    if kind == "text":
        return {"type": "text", "content": field(block, "text")}
    if kind == "thinking":
        return {"type": "reasoning", "content": field(block, "thinking")}
    if kind in _TOOL_CALLS:
        part = {"type": "tool_call", "id": field(block, "id"), "name": field(block, "name")}
        part["arguments"] = field(block, "input")
        toolset = field(block, "toolset_name")
        if kind == "tool_use" and isinstance(toolset, str):
            part["anthropic_toolset_name"] = toolset
        if kind == "mcp_tool_use":
            part["anthropic_mcp_server_name"] = field(block, "server_name")
        return part
    if kind == "tool_result" or (isinstance(kind, str) and kind.endswith("_tool_result")):
        keep = ("text", "search_result") if kind == "tool_result" else ("text", "search_result", "web_search_result")
        response = _result_content(field(block, "content"), keep, whole_object=kind != "tool_result")
        return {"type": "tool_call_response", "id": field(block, "tool_use_id"), "response": response}
    return {"type": f"anthropic_{kind}" if isinstance(kind, str) else "anthropic_unknown"}


def _result_content(content: object, keep: tuple[str, ...], *, whole_object: bool) -> Any:
    """A tool result's content: text-like blocks kept (without binary data), others reduced to their type."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, (list, tuple)):
        blocks: list[Any] = []
        for block in content:
            kind = field(block, "type")
            if kind in keep:
                blocks.append(_without_data(block))
            else:
                blocks.append({"type": kind if isinstance(kind, str) else "unknown"})
        return blocks
    if whole_object and _as_dict(content) is not None:
        return _without_data(content)
    return []


def _as_dict(value: object) -> Optional[dict[str, Any]]:
    if isinstance(value, Mapping):
        return dict(value)
    to_dict = getattr(value, "to_dict", None)  # the SDK's models
    return to_dict() if callable(to_dict) else None


def _without_data(value: object) -> object:
    """`value` without opaque `encrypted_*` fields and without image and document data, at any depth."""
    if isinstance(value, (list, tuple)):
        return [_without_data(item) for item in value]
    fields = _as_dict(value)
    if fields is None:
        return value
    if fields.get("type") in ("image", "document"):
        return {"type": fields["type"]}
    return {key: _without_data(item) for key, item in fields.items() if not str(key).startswith("encrypted_")}


def bound(value: Any, limit: int) -> tuple[Any, bool]:
    """A copy of `value` with every string cut to `limit` characters; and whether anything was cut.

    `arguments` (of a tool call) whose JSON exceeds `limit` become the first `limit` characters of
    that JSON. Always a fresh structure, so a hook can change it without touching the application's
    request. Values JSON cannot hold become their `str()`, as in `to_json`.
    """
    cut = False

    def walk(item: Any, key: object = None) -> Any:
        nonlocal cut
        if isinstance(item, str):
            if len(item) > limit:
                cut = True
                return item[:limit]
            return item
        if item is None or isinstance(item, (bool, int, float)):
            return item
        if key == "arguments":
            text = to_json(item)
            if len(text) > limit:
                cut = True
                return text[:limit]
        if isinstance(item, Mapping):
            return {str(name): walk(inner, name) for name, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(inner) for inner in item]
        fields = _as_dict(item)
        return walk(fields if fields is not None else str(item), key)

    result = walk(value)
    return result, cut


class _Block:
    """One streamed content block: its start, and at most `limit` characters of its deltas."""

    __slots__ = ("chunks", "cut", "room", "start")

    def __init__(self, start: object, limit: int) -> None:
        self.start = start
        self.chunks: list[str] = []
        self.room = limit
        self.cut = False

    def add(self, text: str) -> None:
        room = self.room
        if len(text) > room:
            self.cut = True
            text = text[:room]
        if text:
            self.chunks.append(text)
            self.room = room - len(text)

    def block(self) -> object:
        """The block as a non-streamed response would hold it, as far as the stream got."""
        kind = field(self.start, "type")
        text = "".join(self.chunks)
        if kind == "text":
            return {"type": "text", "text": text}
        if kind == "thinking":
            return {"type": "thinking", "thinking": text}
        if kind in _TOOL_CALLS:
            block = _as_dict(self.start) or {}
            block["input"] = text if self.cut else _parsed(text)
            return block
        return self.start


def _parsed(text: str) -> object:
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text  # a stream cut mid-block: the JSON so far


# The field of each delta type that carries its content.
_DELTA_TEXT: dict[object, str] = {
    "text_delta": "text",
    "input_json_delta": "partial_json",
    "thinking_delta": "thinking",
}


class StreamedContent:
    """The completion of a stream, built from its events: at most `limit` characters per block.

    Fed only `content_block_start` and `content_block_delta` events, and only when capture is on.
    """

    __slots__ = ("blocks", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.blocks: dict[object, _Block] = {}

    def delta(self, event: Any) -> None:
        """A `content_block_delta`: its text, thinking or tool-input JSON, while the block has room."""
        block = self.blocks.get(event.index)
        if block is None or (block.room <= 0 and block.cut):
            return
        delta = event.delta
        name = _DELTA_TEXT.get(getattr(delta, "type", None))
        if name is not None:
            block.add(getattr(delta, name))

    def start(self, event: Any) -> None:
        """A `content_block_start`: the block's type, and a tool call's id and name."""
        start = event.content_block
        block = self.blocks[event.index] = _Block(start, self.limit)
        initial = field(start, "text") if field(start, "type") == "text" else field(start, "thinking")
        if isinstance(initial, str):
            block.add(initial)

    @property
    def cut(self) -> bool:
        return any(block.cut for block in self.blocks.values())

    def content(self) -> Optional[list[object]]:
        """The content blocks so far, or None if no block started."""
        if not self.blocks:
            return None
        return [block.block() for block in self.blocks.values()]
