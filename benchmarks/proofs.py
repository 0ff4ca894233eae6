"""What proves a variant of the overhead benchmark on, and then off again.

On: the spans it ends while it is on (`TALLY`, a processor of the tracer provider every variant
records into, which exports nothing: span export is not what is measured). Off: the SDK's modules
and classes exactly as they were before the run (`SdkSnapshot`), whatever an instrumentation's
`uninstrument()` left behind being put back.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider


class SpanTally(SpanProcessor):
    """Counts the spans started and ended, and keeps those ended since `mark()`."""

    def __init__(self) -> None:
        self.started = 0
        self.ended_count = 0
        self.ended: list[ReadableSpan] = []
        self.keeping = False

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended_count += 1
        if self.keeping:
            self.ended.append(span)

    def mark(self) -> None:
        """Keep the spans ended from now on (until `release`), forgetting earlier ones."""
        self.ended = []
        self.keeping = True

    def release(self) -> list[ReadableSpan]:
        spans, self.ended, self.keeping = self.ended, [], False
        return spans

    def left_open(self) -> int:
        return self.started - self.ended_count


TALLY = SpanTally()
TRACER_PROVIDER = TracerProvider()
TRACER_PROVIDER.add_span_processor(TALLY)


_SNAPSHOT_MODULES = (
    "anthropic._base_client",
    "anthropic._client",
    "anthropic._response",
    "anthropic._legacy_response",
    "anthropic._streaming",
    "anthropic._tracing",
    "anthropic._decoders.jsonl",
    "anthropic.resources.messages",
    "anthropic.resources.messages.messages",
    "anthropic.resources.messages.batches",
    "anthropic.resources.beta.messages",
    "anthropic.resources.beta.messages.messages",
    "anthropic.resources.completions",
    "anthropic.lib.streaming",
    "anthropic.lib.tools._beta_runner",
    "anthropic.lib.tools._beta_functions",
    "anthropic.lib.bedrock._beta_messages",
    "anthropic.lib.vertex._beta_messages",
)


class SdkSnapshot:
    """The attributes of the SDK's modules and of the classes they define, to tell whether an
    instrumentation left anything patched when it was switched off, and to put it back if so."""

    def __init__(self) -> None:
        self.owners: list[tuple[Any, dict[str, Any]]] = []
        for name in _SNAPSHOT_MODULES:
            try:
                module = importlib.import_module(name)
            except Exception:  # not in this SDK version
                continue
            self.owners.append((module, dict(vars(module))))
            for value in vars(module).values():
                if inspect.isclass(value) and value.__module__ == name:
                    self.owners.append((value, dict(vars(value))))

    def restore(self) -> list[str]:
        """Put back whatever differs; returns what did (empty when the SDK is as it was)."""
        changed = []
        for owner, attributes in self.owners:
            current = vars(owner)
            for name in set(current) | set(attributes):
                if current.get(name, _MISSING) is attributes.get(name, _MISSING):
                    continue
                if name not in attributes and (inspect.ismodule(owner) or name.startswith("__")):
                    continue  # a submodule imported since, or a cache such as copyreg's `__slotnames__`
                changed.append(f"{getattr(owner, '__qualname__', owner.__name__)}.{name}")
                if name in attributes:
                    setattr(owner, name, attributes[name])
                else:
                    delattr(owner, name)
        return changed


_MISSING = object()
