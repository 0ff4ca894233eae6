"""`history_dropped` and `tool_result_missing`: a conversation whose next request lost something.

The Messages API is stateless: each request must carry the whole conversation so far. Within a
conversation (`gen_ai.conversation.id`, from `anthropic_otel.conversation()` or the client's
option) the next request should therefore start with the previous request's messages, followed
by the previous response as an assistant message; and if that response stopped with `tool_use`,
the messages after it must answer each tool id with a `tool_result`. Otherwise the model forgets,
or the agent stalls (or the API refuses the request with a 400, which is recognised too).

Per conversation only the message count, one 8-byte hash of the messages and the pending tool
ids are kept, in a bounded LRU. Only successful calls move a conversation on, so a request
retried after an error is compared with the same predecessor again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from anthropic_otel._diagnostics.findings import CODES, Finding
from anthropic_otel._diagnostics.state import BoundedLRU, canonical, digest
from anthropic_otel._read.attributes import field

__all__ = ["ConversationWatch", "missing_tool_result_error"]

_CONVERSATIONS = 10_000
# The API's own words for the same mistake (invalid_request_error, 400).
API_MESSAGE = "`tool_use` ids were found without `tool_result` blocks"


@dataclass(frozen=True)
class _Turn:
    """What the next request of a conversation must extend: message count, their hash, open tool ids."""

    length: int
    hashed: bytes
    pending_tools: tuple[str, ...]


def _hashes(messages: Sequence[Any], at: int) -> tuple[Optional[bytes], bytes]:
    """The hash of the first `at` messages (None if there are fewer), and of all of them.

    Whole-list serialisations (one C-level `json.dumps` each) rather than one per message: a
    list's prefix serialises to the same bytes as the earlier, shorter list did.
    """
    prefix = digest(canonical(list(messages[:at]))) if 0 <= at <= len(messages) else None
    return prefix, digest(canonical(list(messages)))


def _answered(messages: Sequence[Any]) -> set[str]:
    """The tool ids answered by `tool_result` blocks after the last assistant message."""
    answered: set[str] = set()
    for message in reversed(messages):
        if field(message, "role") == "assistant":
            break
        content = field(message, "content")
        if isinstance(content, list):
            for block in content:
                if field(block, "type") == "tool_result":
                    answered.add(str(field(block, "tool_use_id")))
    return answered


def _tool_ids(body: Any) -> tuple[str, ...]:
    """The ids of a response's `tool_use` blocks, if it stopped to use tools."""
    if field(body, "stop_reason") != "tool_use":
        return ()
    content = field(body, "content")
    if not isinstance(content, list):
        return ()
    return tuple(str(field(block, "id")) for block in content if field(block, "type") == "tool_use")


def missing_tool_result_error(error: Optional[BaseException]) -> Optional[Finding]:
    """The finding for the API's 400 about `tool_use` blocks without `tool_result`, else None."""
    if error is None or getattr(error, "status_code", None) != 400:
        return None
    message = field(getattr(error, "body", None), "error", "message")
    if not isinstance(message, str) or API_MESSAGE not in message:
        return None
    return Finding(
        "tool_result_missing",
        f"the API refused the request (400: {API_MESSAGE}); {CODES['tool_result_missing'].fix}",
        {"http.response.status_code": 400},
    )


class ConversationWatch:
    """The last successful turn of each recent conversation."""

    __slots__ = ("_lock", "_turns")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: BoundedLRU[str, _Turn] = BoundedLRU(_CONVERSATIONS)

    def observe(self, conversation: str, request: Any, body: Any, *, history: bool, tools: bool) -> list[Finding]:
        """Compare a request with its conversation's previous turn; a successful call becomes the new turn."""
        messages = field(request, "messages")
        if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)):
            return []
        with self._lock:
            before = self._turns.get(conversation)
        findings: list[Finding] = []
        prefix, hashed = _hashes(messages, before.length if before is not None else -1)
        if before is not None:
            extends = (
                len(messages) > before.length
                and prefix == before.hashed
                and field(messages[before.length], "role") == "assistant"
            )
            if history and not extends:
                findings.append(_dropped(before.length, len(messages)))
            missing = sorted(set(before.pending_tools) - _answered(messages)) if before.pending_tools else []
            if tools and missing:
                findings.append(
                    Finding(
                        "tool_result_missing",
                        f"the previous response stopped for tools {', '.join(missing)} and this request has no "
                        f"tool_result for them; {CODES['tool_result_missing'].fix}",
                        {"anthropic.diagnostic.tool_use_ids": missing},
                    )
                )
        if field(body, "stop_reason") is not None:
            with self._lock:
                self._turns.put(conversation, _Turn(len(messages), hashed, _tool_ids(body)))
        return findings


def _dropped(before: int, now: int) -> Finding:
    return Finding(
        "history_dropped",
        f"this request's {now} messages do not continue the previous request's {before} messages and its "
        f"response; {CODES['history_dropped'].fix}",
        {"anthropic.diagnostic.previous_messages": before, "anthropic.diagnostic.messages": now},
    )
