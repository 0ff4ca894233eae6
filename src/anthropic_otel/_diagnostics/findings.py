"""What a diagnostic says: the codes we know, and one finding of one of them.

The table is the troubleshooting checklist in code form: every code has the symptom an engineer
on call sees and the fix. The README's checklist and `anthropic-otel doctor` read from here, so
they cannot drift from what the detectors report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anthropic_otel._read.attributes import AttributeValue

__all__ = ["CODES", "Code", "Finding"]


@dataclass(frozen=True)
class Code:
    """One recognisable failure signature: what the user sees, and what to do about it."""

    symptom: str
    fix: str


CODES: dict[str, Code] = {
    "beta_header_unknown": Code(
        "a beta feature does nothing",
        "an unknown beta name switches nothing on: fix its spelling, or upgrade anthropic if the beta is newer",
    ),
    "cache_prefix_changed": Code(
        "caching saves nothing",
        "the prompt before the cache_control breakpoint changed since the last cache write on this route: "
        "move variable content (dates, ids, user input) after the breakpoint",
    ),
    "cache_not_written": Code(
        "caching saves nothing",
        "cache_control is set but nothing was written or read: the prefix is shorter than the model's minimum "
        "cacheable length; put the breakpoint after more content or drop it",
    ),
    "rate_limited": Code(
        "a flood of 429s",
        "the API answered 429/529: respect retry-after, spread traffic out and ramp new routes up gradually",
    ),
    "tool_result_missing": Code(
        "the agent stalls after one tool call",
        "answer every tool_use block of the previous response with a tool_result block of the same id "
        "in the next user message",
    ),
    "history_dropped": Code(
        "the model forgets",
        "send the whole conversation each time: the previous messages plus the previous response, in order",
    ),
    "max_tokens_reached": Code(
        "answers cut off",
        "stop_reason is max_tokens: raise max_tokens or ask for shorter output",
    ),
    "compat_feature_dropped": Code(
        "a feature works with the Anthropic SDK but not through the OpenAI SDK",
        "the OpenAI compatibility layer ignores this feature: call the Claude API with the anthropic SDK to use it",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One diagnostic about one call: its code, a one-line message naming the fix, and details."""

    code: str
    message: str
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
