"""The steps of `anthropic-otel demo`: what a small ticket-triage service asks Claude.

Each step makes the calls a real service makes (plain calls, a cached system prompt, a streamed
answer, a tool loop, a rate limit the SDK retries, a rejected request, token counting, a small
batch) and, against the fake API, first scripts the answers it expects, so that the demo tells the
same story every time. `_demo` runs them under the instrumentation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Union

import anthropic

from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply, ToolUse

Reply = Union[MessageReply, ErrorReply]

__all__ = ["EXPLAINED", "LIVE_ROUND", "STEPS", "Step", "Workload"]

MODEL = "claude-sonnet-4-6"
FAST_MODEL = "claude-haiku-4-5"
TICKET = "Order A-1042 was charged twice and still has not shipped. Please fix this today."
# Long enough for the real prompt cache (1,024 tokens at least), like a real service's policy.
POLICY = "You triage support tickets for an online shop. Rules:\n" + "\n".join(
    f"{n}. Tickets about {topic} go to the {team} team; answer within {hours} hours and quote the order id."
    for n, (topic, team, hours) in enumerate(
        [
            ("billing", "billing", 4),
            ("shipping", "logistics", 8),
            ("refunds", "billing", 4),
            ("accounts", "support", 24),
        ]
        * 12,
        start=1,
    )
)
LOOKUP_TOOL = {
    "name": "lookup_order",
    "description": "Look up an order's status by its id.",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
}


class Workload:
    """The client, and the fake API to script when not live (scripted replies are skipped live).

    The client is typed `Any`: the workload runs on every supported SDK version, whose types differ.
    `latency()`, when given, is how long the fake API takes for each scripted answer.
    """

    def __init__(
        self, client: Any, fake: Optional[FakeClaudeAPI], latency: Optional[Callable[[], float]] = None
    ) -> None:
        self.client = client
        self.fake = fake
        self.latency = latency

    def script(self, *replies: Reply) -> None:
        if self.fake is None:
            return
        if self.latency is not None:
            replies = tuple(
                dataclasses.replace(reply, delay=self.latency()) if isinstance(reply, MessageReply) else reply
                for reply in replies
            )
        self.fake.queue(*replies)

    def ask(self, text: str, model: str = MODEL, max_tokens: int = 256, **options: Any) -> Any:
        messages = [{"role": "user", "content": text}]
        return self.client.messages.create(model=model, max_tokens=max_tokens, messages=messages, **options)


def _text(message: Any) -> str:
    return " ".join(block.text for block in message.content if getattr(block, "type", None) == "text").strip()


def classify(work: Workload) -> str:
    work.script(MessageReply(text="billing", stop_reason="end_turn"))
    message = work.ask(f"One word, the team for this ticket: {TICKET}", model=FAST_MODEL, max_tokens=8)
    return f"team: {_text(message)}"


def cached_policy(work: Workload) -> str:
    work.script(MessageReply(text="Priority: high. Team: billing. Reply within 4 hours."))
    system = [{"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral"}}]
    message = work.ask(f"Triage this ticket: {TICKET}", system=system)
    usage = message.usage
    read, written = usage.cache_read_input_tokens or 0, usage.cache_creation_input_tokens or 0
    return f"cache read {read}, cache write {written} tokens"


def streamed_reply(work: Workload) -> str:
    work.script(MessageReply(text="Sorry about the double charge! I have asked billing to refund it today."))
    messages = [{"role": "user", "content": f"Draft a short, kind reply to: {TICKET}"}]
    with work.client.messages.stream(model=MODEL, max_tokens=300, messages=messages) as stream:
        words = sum(len(text.split()) for text in stream.text_stream)
    return f"streamed {words} words"


def tool_loop(work: Workload) -> str:
    work.script(
        MessageReply(tool_uses=(ToolUse("lookup_order", {"order_id": "A-1042"}),), stop_reason="tool_use"),
        MessageReply(text="Order A-1042 is packed and ships tomorrow; the duplicate charge is being refunded."),
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"What is the status of the order? {TICKET}"}]
    message = work.client.messages.create(model=MODEL, max_tokens=300, tools=[LOOKUP_TOOL], messages=messages)
    turns = 1
    while message.stop_reason == "tool_use" and turns < 4:
        results = [
            {"type": "tool_result", "tool_use_id": block.id, "content": '{"status": "packed", "ships": "tomorrow"}'}
            for block in message.content
            if block.type == "tool_use"
        ]
        messages += [{"role": "assistant", "content": message.content}, {"role": "user", "content": results}]
        message = work.client.messages.create(model=MODEL, max_tokens=300, tools=[LOOKUP_TOOL], messages=messages)
        turns += 1
    return f"{turns} turns, stop reason {message.stop_reason}"


def rate_limited(work: Workload) -> str:
    work.script(ErrorReply(429, retry_after=0), MessageReply(text="refund"))
    message = work.ask(f"One word, the action for this ticket: {TICKET}", model=FAST_MODEL, max_tokens=8)
    return f"answered after the SDK's retry: {_text(message)}"


def rejected(work: Workload) -> str:
    work.script(ErrorReply(400, message="max_tokens: must be at least 1"))
    try:
        work.ask("Summarize the ticket.", max_tokens=0)
    except anthropic.BadRequestError as error:
        return f"the app saw {type(error).__name__} ({error.status_code})"
    return "accepted"


def count_tokens(work: Workload) -> str:
    counted = work.client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": TICKET}])
    return f"{counted.input_tokens} input tokens"


def backlog_batch(work: Workload) -> str:
    tickets = {
        "ticket-47931": "Where is my parcel?",
        "ticket-47932": "Please close my account.",
        "ticket-47933": TICKET,
    }
    requests: Any = [
        {
            "custom_id": key,
            "params": {"model": FAST_MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": t}]},
        }
        for key, t in tickets.items()
    ]
    batch = work.client.messages.batches.create(requests=requests)
    batch = work.client.messages.batches.retrieve(batch.id)
    if batch.processing_status != "ended":
        return f"batch {batch.id} is {batch.processing_status}; results later"
    found = {result.custom_id: result.result.type for result in work.client.messages.batches.results(batch.id)}
    return f"{sum(kind == 'succeeded' for kind in found.values())}/{len(tickets)} succeeded"


Step = tuple[str, str, Callable[[Workload], str]]
STEPS: tuple[Step, ...] = (
    ("classify the ticket", "triage", classify),
    ("triage with the policy (cache write)", "triage", cached_policy),
    ("triage with the policy (cache hit)", "triage", cached_policy),
    ("stream a reply draft", "reply-draft", streamed_reply),
    ("look up the order (tool loop)", "order-lookup", tool_loop),
    ("a 429, retried by the SDK", "triage", rate_limited),
    ("a rejected request (400)", "reply-draft", rejected),
    ("count tokens", "reply-draft", count_tokens),
    ("triage the backlog (batch)", "backlog", backlog_batch),
)
# A round of `--for`: the steps above and more of the everyday calls, so that the 429 and the 400
# are one call in 17 rather than one in 13. Every round is the same: 17 calls and 3 batch results.
LIVE_ROUND: tuple[Step, ...] = (
    *STEPS,
    ("classify another ticket", "triage", classify),
    ("triage it with the policy (cache hit)", "triage", cached_policy),
    ("stream another reply draft", "reply-draft", streamed_reply),
    ("classify a third ticket", "triage", classify),
)
# What the demo's deliberate faults make anthropic-otel report, and why that is what it should do.
EXPLAINED = {
    "rate_limited": (
        "expected here: the fake API answered 429 once on purpose, and the SDK's retry hid it from the app. "
        "anthropic-otel reports it anyway; a flood of these is the sign to act on"
    ),
}
