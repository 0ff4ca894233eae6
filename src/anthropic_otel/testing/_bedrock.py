"""Bedrock's side of the fake API: its model ids, and its streams in AWS event-stream framing.

`invoke-with-response-stream` does not answer with server-sent events: each Messages API event is
base64 inside the JSON payload of one binary event-stream message (`application/vnd.amazon.eventstream`),
which the SDK's Bedrock client decodes with botocore. A message is its total and header lengths,
a CRC32 of those, the headers (`:event-type`, `:content-type`, `:message-type`, as strings), the
payload and a CRC32 of everything before it. Bedrock's answer names the model it served
(`claude-sonnet-4-6`), not the id or inference profile the request went to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from typing import Any

__all__ = ["bedrock_chunks", "event_stream_message", "served_model"]

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7  # the header value type of a string
# `[geo.]anthropic.<model>[-v<n>[:<m>]]`, possibly as the last part of an ARN.
_BEDROCK_ID = re.compile(r"(?:^|/)(?:[a-z-]+\.)?anthropic\.(?P<model>[a-z0-9.-]+?)(?:-v\d+(?::\d+)?)?$")


def served_model(model_id: str) -> str:
    """The model a Bedrock id serves, as Bedrock's answer names it; the id itself if it names none."""
    found = _BEDROCK_ID.search(model_id)
    return found["model"] if found is not None else model_id


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(encoded_name))
        + encoded_name
        + struct.pack(">BH", _STRING, len(encoded_value))
        + encoded_value
    )


def event_stream_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", binascii.crc32(message))


def bedrock_chunks(events: list[tuple[str, dict[str, Any]]]) -> list[bytes]:
    """The Messages API's stream `events` as Bedrock sends them: one `chunk` message per event."""
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return [
        event_stream_message(
            headers, json.dumps({"bytes": base64.b64encode(json.dumps(data).encode()).decode()}).encode()
        )
        for _, data in events
    ]
