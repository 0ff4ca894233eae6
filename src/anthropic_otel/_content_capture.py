"""Opt-in content capture: where a call's prompt and completion go, after truncation and the user's hook.

Off unless `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` asks for it; then `Telemetry.content`
is a `ContentCapture` and every Messages call gets a `CallContent`. Its request side is converted
when the call begins (so an application that changes its message list afterwards cannot change
what is recorded), its completion when the response or the stream's `message_delta` is there.
`CallContent.finalize` runs the hook exactly once per call and caches the result, so the span (ours,
or the SDK's on 1.14+) and the `gen_ai.client.inference.operation.details` event carry the same
values.

The hook receives the semconv structures (`{"gen_ai.input.messages": [...], ...}`, values already
cut to the limit; for a tool run inside a tool runner, `{"gen_ai.tool.call.arguments": ...,
"gen_ai.tool.call.result": ...}`) and returns what to record, or None to record nothing. A hook that raises, or
returns anything but a mapping, records nothing for that call (logged at debug, by exception type
only: its message could quote the content). A hook that cannot be loaded records nothing at all.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any, Callable, Optional

from opentelemetry.trace import Span

from anthropic_otel._config import CAPTURE_MODES, Settings
from anthropic_otel._read.attributes import Attributes, field
from anthropic_otel._read.content import (
    CONTENT_KEYS,
    OUTPUT,
    TRUNCATED,
    Content,
    StreamedContent,
    bound,
    output_messages,
    request_content,
    to_json,
)

__all__ = ["CONTENT_EVENT", "CallContent", "ContentCapture", "ContentHook", "load_hook"]

log = logging.getLogger(__name__)

CONTENT_EVENT = "gen_ai.client.inference.operation.details"
# A tool run's content (semconv's opt-in attributes of `execute_tool` spans).
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
TOOL_KEYS = (TOOL_ARGUMENTS, TOOL_RESULT)
# What the event carries besides the content, taken from the call's span attributes.
EVENT_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.conversation.id",
    "server.address",
    "server.port",
    "error.type",
)

ContentHook = Callable[[Content], Optional[Mapping[str, Any]]]
# The finalized content of a call: the values to record, and whether any was cut. None: record none.
Recorded = Optional[tuple[Content, bool]]


def load_hook(spec: str) -> ContentHook:
    """The function `module:function` (or `module.function`) names. Raises if it cannot be loaded."""
    module_name, sep, name = spec.partition(":")
    if not sep:
        module_name, _, name = spec.rpartition(".")
    hook = getattr(importlib.import_module(module_name), name)
    if not callable(hook):
        raise TypeError(f"{spec} is not callable")
    return hook  # type: ignore[no-any-return]


class ContentCapture:
    """The content settings of one `instrument()`: where content goes, its limit, and the hook."""

    __slots__ = ("blocked", "hook", "limit", "on_event", "on_span", "warned_sdk")

    def __init__(self, settings: Settings, hook: Optional[ContentHook]) -> None:
        self.on_span, self.on_event = CAPTURE_MODES[settings.content_capture]
        self.limit = settings.content_max_length
        self.hook = hook
        self.warned_sdk = False
        # A redaction hook was named but could not be loaded: record nothing rather than unredacted content.
        self.blocked = False
        if hook is None and settings.content_hook:
            try:
                self.hook = load_hook(settings.content_hook)
            except Exception as error:
                self.blocked = True
                log.warning(
                    "anthropic-otel: cannot load ANTHROPIC_OTEL_CONTENT_HOOK=%s (%s: %s); no content will be recorded",
                    settings.content_hook,
                    type(error).__name__,
                    error,
                )

    @classmethod
    def from_settings(cls, settings: Settings, hook: Optional[ContentHook]) -> Optional[ContentCapture]:
        """The capture `settings` ask for, or None when content capture is off."""
        if settings.content_capture == "no_content":
            return None
        return cls(settings, hook)

    def begin(self, body: object, client: Any) -> Optional[CallContent]:
        """The content of a Messages call that is starting; None when it must record none."""
        if self.blocked:
            return None
        try:
            request, cut = bound(request_content(body), self.limit)
            return CallContent(self, request, cut, self.on_span and not self.sdk_records_content(client))
        except Exception as error:
            # The call is still recorded, without content (and the log does not quote it).
            log.debug("anthropic-otel: could not read a call's content (%s)", type(error).__name__)
            return None

    def redacted(self, content: Content, cut: bool, keys: tuple[str, ...]) -> Recorded:
        """`content` (already bounded; `cut` if that cut something) after the user's hook, bounded again.

        The hook sees only `keys` and may return only them; one that raises, or returns anything but a
        mapping, records nothing (logged at debug, by exception type only: its message could quote it).
        """
        if self.hook is None:
            return content, cut
        try:
            returned = self.hook(content)
        except BaseException as error:  # the user's code: nothing it raises may reach the application
            log.debug("anthropic-otel: the content hook raised %s; no content recorded", type(error).__name__)
            return None
        if not isinstance(returned, Mapping):
            if returned is not None:
                log.debug("anthropic-otel: the content hook returned a %s; no content recorded", type(returned))
            return None
        content, hook_cut = bound({key: returned[key] for key in keys if key in returned}, self.limit)
        return content, cut or hook_cut

    @property
    def plain_on_span(self) -> bool:
        """Whether content that no hook sees (a request's stop sequences) may go on spans as it is:
        content goes on spans, and no redaction hook is named (loaded or not)."""
        return self.on_span and not self.blocked and self.hook is None

    def tool_attributes(self, arguments: object, result: object) -> Optional[Attributes]:
        """The span attributes of a tool run's content (`gen_ai.tool.call.arguments` and `.result`),
        cut to the limit and through the hook like a call's; None when there are none to record."""
        if self.blocked or not self.on_span:
            return None
        content, cut = bound({TOOL_ARGUMENTS: arguments, TOOL_RESULT: result}, self.limit)
        recorded = self.redacted({key: value for key, value in content.items() if value is not None}, cut, TOOL_KEYS)
        return span_attributes(recorded) if recorded is not None and recorded[0] else None

    def sdk_records_content(self, client: Any) -> bool:
        """Whether the SDK (1.14+) writes its own content on its span for this client, after ours.

        Its values would replace ours without our limit or hook, so we leave its span to it and
        say so once. The event is still ours.
        """
        try:
            options = client.open_telemetry
        except AttributeError:
            return False
        sdk_content = field(options, "traces", "content_mode") == "content"
        if sdk_content and not self.warned_sdk:
            self.warned_sdk = True
            log.warning(
                "anthropic-otel: the SDK's own content capture is on for this client (content_mode='content'): "
                "its span gets the SDK's copy of the content, without ANTHROPIC_OTEL_CONTENT_MAX_LENGTH or the "
                "content hook. Turn it off (ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE) to record ours."
            )
        return sdk_content


class CallContent:
    """One call's content: the request side from the start, the completion when it is known."""

    __slots__ = ("capture", "cut", "done", "on_sdk_span", "recorded", "request", "stream")

    def __init__(self, capture: ContentCapture, request: Content, cut: bool, on_sdk_span: bool) -> None:
        self.capture = capture
        self.request = request
        self.cut = cut
        self.on_sdk_span = on_sdk_span
        self.stream: Optional[StreamedContent] = None
        self.done = False
        self.recorded: Recorded = None

    def streamed(self) -> StreamedContent:
        """The accumulator of a streamed completion (made on the first content event)."""
        stream = self.stream
        if stream is None:
            stream = self.stream = StreamedContent(self.capture.limit)
        return stream

    def finalize(self, body: object) -> Recorded:
        """The content to record, with the completion from `body` (or the stream); the hook runs once."""
        if self.done:
            return self.recorded
        self.done = True
        try:
            self.recorded = self._content(body)
        except Exception as error:
            log.debug("anthropic-otel: could not record a call's content (%s)", type(error).__name__)
        return self.recorded

    def _content(self, body: object) -> Recorded:
        capture = self.capture
        content = dict(self.request)
        cut = self.cut
        blocks: object
        if self.stream is not None:
            blocks = self.stream.content()
            cut = cut or self.stream.cut
        else:
            blocks = field(body, "content")
        if isinstance(blocks, (list, tuple)):
            output, output_cut = bound(output_messages(blocks, field(body, "stop_reason")), capture.limit)
            content[OUTPUT] = output
            cut = cut or output_cut
        return capture.redacted({key: content[key] for key in CONTENT_KEYS if key in content}, cut, CONTENT_KEYS)

    def set_on_span(self, span: Span, body: object) -> None:
        """Put the call's content on `span` (when capture goes to spans); finalizes it."""
        recorded = self.finalize(body)
        try:
            if recorded is not None and span.is_recording():
                span.set_attributes(span_attributes(recorded))
        except Exception as error:  # the span must still end
            log.debug("anthropic-otel: could not put content on a span (%s)", type(error).__name__)

    def event_attributes(self, attributes: Mapping[str, Any], body: object) -> Optional[dict[str, Any]]:
        """The attributes of the call's `gen_ai.client.inference.operation.details` event, or None."""
        recorded = self.finalize(body)
        if recorded is None:
            return None
        content, cut = recorded
        event: dict[str, Any] = {key: attributes[key] for key in EVENT_KEYS if key in attributes}
        event.update(content)  # structured, as semconv requires on events
        if cut:
            event[TRUNCATED] = True
        return event


def span_attributes(recorded: tuple[Content, bool]) -> Attributes:
    """Content as span attributes: one JSON string per key, and `anthropic.content.truncated` if cut."""
    content, cut = recorded
    attributes: Attributes = {key: to_json(value) for key, value in content.items()}
    if cut:
        attributes[TRUNCATED] = True
    return attributes
