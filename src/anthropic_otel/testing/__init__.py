"""A local fake of the Claude API, for tests, examples and the demo: real HTTP, no key, no network.

    from anthropic_otel.testing import FakeClaudeAPI, MessageReply, ErrorReply, Fault

    with FakeClaudeAPI() as api:                      # 127.0.0.1, an ephemeral port
        client = anthropic.Anthropic(base_url=api.base_url, api_key="sk-ant-test")
        api.queue(MessageReply(text="Hi", usage={"input_tokens": 5, "output_tokens": 2}))
        client.messages.create(...)                   # answered by the queued reply

It speaks enough of the Messages API for the real SDK, sync and async, every version: JSON
messages and SSE streams (text, thinking, tool use with `input_json_delta`), `count_tokens`,
Message Batches (results as JSONL), legacy `/v1/complete` (JSON and SSE), the Vertex
(`:rawPredict`) and Bedrock (`/model/{id}/invoke`; streams in AWS event-stream framing) routes,
the beta managed agents (agents, environments and their work, sessions with events, an SSE event stream and threads; see
`_agents`), the API's error bodies, and the OpenAI compatibility layer's `/v1/chat/completions`
(OpenAI-format JSON and SSE, for the `openai` SDK; see `_chat`). Every answer carries a
`request-id` and `anthropic-ratelimit-*` headers; a reply's `headers={"request-id": None}`
leaves one out.

What a message request gets, first match wins:
1. the next reply queued with `api.queue(...)` (`MessageReply`, `ErrorReply` or `Fault`);
2. the request header `x-fake-reply`, a JSON object, concurrency-safe:
   `{"text": "hi", "usage": {"input_tokens": 5}}`, `{"error": {"status": 429, "retry_after": 0}}`
   or `{"fault": "drop_mid_stream", "after_events": 3}` (also honoured for errors on other routes);
3. a default answer, with usage computed deterministically (input tokens ~ request size / 4,
   output tokens = words; requests with `cache_control` write the prefix, then read it).

Run it alone with `python -m anthropic_otel.testing --port 8080`.
"""

from anthropic_otel.testing._http import RecordedRequest
from anthropic_otel.testing._replies import ErrorReply, Fault, MessageReply, ToolUse
from anthropic_otel.testing._server import FakeClaudeAPI

__all__ = ["ErrorReply", "FakeClaudeAPI", "Fault", "MessageReply", "RecordedRequest", "ToolUse"]
