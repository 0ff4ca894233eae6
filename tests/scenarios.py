"""A catalogue of application-level scenarios against the fake API, shared by the differential and secret tests.

A scenario scripts the fake API (`setup`), then makes one or more SDK calls with a fresh client
(`run`, a plain or `async` function of the client) and returns what the application would look
at. `calls` is how many API calls (so spans) it makes; `early` marks a stream the app closes
before its end (its span ends with status UNSET); `truncated` a stream that ends without
`message_stop`, which the SDK does not raise for but records as an error (so do we).
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import anthropic
import pydantic

from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, Fault, MessageReply, ToolUse

MODEL = "claude-sonnet-4-6"
USAGE = {"input_tokens": 25, "output_tokens": 9, "cache_read_input_tokens": 5}
TEXT = "one two three four five six seven eight nine"
ERROR_STATUSES = (400, 401, 404, 413, 429, 500, 529)
HAS_PARSE = hasattr(anthropic.resources.Messages, "parse")

_IDS = re.compile(r"\b(msg|req|msgbatch|toolu|srvtoolu|compl)_[A-Za-z0-9_]+")
_TIMESTAMPS = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def ask(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hello, Claude"}], **extra}


class Ticket(pydantic.BaseModel):
    priority: str


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Any], Any]
    setup: Callable[[FakeClaudeAPI], None] = lambda api: None
    async_: bool = False
    calls: int = 1
    early: bool = False
    truncated: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def normalise(value: Any) -> Any:
    """`value` with random ids and timestamps replaced, models dumped: comparable across two runs."""
    if isinstance(value, pydantic.BaseModel):
        with warnings.catch_warnings():  # parsed models (SDK 0.x) make pydantic warn when dumped
            warnings.simplefilter("ignore", UserWarning)
            dumped = value.model_dump()
        return normalise(dumped)
    if isinstance(value, dict):
        return {normalise(key): normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return "<time>"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return _TIMESTAMPS.sub("<time>", _IDS.sub(r"\1_<id>", value))
    return value


def outcome_of_error(error: BaseException) -> tuple[str, Any]:
    return ("raised", (type(error).__module__, type(error).__qualname__, normalise(str(error))))


def run_scenario(scenario: Scenario, api: FakeClaudeAPI, client_factory: Callable[..., Any]) -> tuple[Any, int]:
    """(outcome, number of HTTP requests the fake API received); outcome is ('returned', value) or ('raised', ...)."""
    api.reset()
    scenario.setup(api)
    if scenario.async_:

        async def go() -> tuple[str, Any]:
            client = client_factory(async_=True, **scenario.options)
            try:
                return ("returned", normalise(await scenario.run(client)))
            except Exception as error:
                return outcome_of_error(error)
            finally:
                await client.close()

        result = asyncio.run(go())
    else:
        client = client_factory(**scenario.options)
        try:
            result = ("returned", normalise(scenario.run(client)))
        except Exception as error:
            result = outcome_of_error(error)
        finally:
            client.close()
    return result, api.request_count


# -- sync scenario bodies ----------------------------------------------------------------------


def create(client: Any) -> Any:
    return client.messages.create(**ask())


def create_events(client: Any) -> Any:
    return list(client.messages.create(stream=True, **ask()))


def create_stream_abandoned(client: Any) -> Any:
    stream = client.messages.create(stream=True, **ask())
    first = [next(iter(stream)), next(iter(stream))]
    stream.close()
    return first


def create_stream_dropped(client: Any) -> Any:
    stream = client.messages.create(stream=True, **ask())
    first = next(iter(stream))
    del stream  # neither read to the end nor closed: the span must still end, once
    gc.collect()
    return first


def raw_create_stream(client: Any) -> Any:
    raw = client.messages.with_raw_response.create(stream=True, **ask())
    return {"status": raw.status_code, "events": list(raw.parse())}


def create_stream_abandoned_in_with(client: Any) -> Any:
    with client.messages.create(stream=True, **ask()) as stream:
        for event in stream:
            return event
    return None


def helper_text(client: Any) -> Any:
    with client.messages.stream(**ask()) as stream:
        return "".join(stream.text_stream)


def helper_final_message(client: Any) -> Any:
    with client.messages.stream(**ask()) as stream:
        return stream.get_final_message()


def helper_abandoned(client: Any) -> Any:
    with client.messages.stream(**ask()) as stream:
        for event in stream:
            return event.type
    return None


def raw_create(client: Any) -> Any:
    raw = client.messages.with_raw_response.create(**ask())
    return {"status": raw.status_code, "message": raw.parse()}


def streaming_response_parse(client: Any) -> Any:
    with client.messages.with_streaming_response.create(**ask()) as response:
        return {"status": response.status_code, "message": response.parse()}


def streaming_response_unread(client: Any) -> Any:
    with client.messages.with_streaming_response.create(**ask()) as response:
        return response.status_code


def streaming_response_sse_lines(client: Any) -> Any:
    with client.messages.with_streaming_response.create(stream=True, **ask()) as response:
        return [line for line in response.iter_lines() if line]


def parse_ticket(client: Any) -> Any:
    parsed = client.messages.parse(**ask(), output_format=Ticket)
    return {"parsed": parsed.parsed_output, "message": parsed}


def count_tokens(client: Any) -> Any:
    return client.messages.count_tokens(model=MODEL, messages=ask()["messages"])


def count_tokens_error(client: Any) -> Any:
    return client.messages.count_tokens(
        model=MODEL, messages=ask()["messages"], extra_headers={"x-fake-reply": '{"error": {"status": 429}}'}
    )


BATCH_REQUESTS = [
    {"custom_id": "a", "params": ask()},
    {"custom_id": "b", "params": ask(metadata={"fake_result": "errored"})},
    {"custom_id": "c", "params": ask(metadata={"fake_result": "expired"})},
]


def batch_create(client: Any) -> Any:
    return client.messages.batches.create(requests=BATCH_REQUESTS)


def batch_create_retrieve(client: Any) -> Any:
    batch = client.messages.batches.create(requests=BATCH_REQUESTS)
    return client.messages.batches.retrieve(batch.id)


def batch_cancel(client: Any) -> Any:
    batch = client.messages.batches.create(requests=BATCH_REQUESTS)
    return client.messages.batches.cancel(batch.id)


def batch_delete(client: Any) -> Any:
    batch = client.messages.batches.create(requests=BATCH_REQUESTS)
    return client.messages.batches.delete(batch.id)


def batch_retrieve_missing(client: Any) -> Any:
    return client.messages.batches.retrieve("msgbatch_does_not_exist")


def batch_list(client: Any) -> Any:
    page = client.messages.batches.list()  # the session's fake keeps every batch: compare the shape only
    return {"has_more": page.has_more, "types": sorted({batch.type for batch in page.data})}


def batch_results(client: Any) -> Any:
    batch = client.messages.batches.create(requests=BATCH_REQUESTS)
    return list(client.messages.batches.results(batch.id))  # retrieve, then results


def beta_create(client: Any) -> Any:
    return client.beta.messages.create(**ask(), betas=["context-management-2025-06-27"])


# -- async scenario bodies ---------------------------------------------------------------------


async def acreate(client: Any) -> Any:
    return await client.messages.create(**ask())


async def acreate_events(client: Any) -> Any:
    return [event async for event in await client.messages.create(stream=True, **ask())]


async def acreate_stream_abandoned(client: Any) -> Any:
    stream = await client.messages.create(stream=True, **ask())
    async for event in stream:
        await stream.close()
        return event
    return None


async def ahelper_text(client: Any) -> Any:
    async with client.messages.stream(**ask()) as stream:
        return "".join([text async for text in stream.text_stream])


async def ahelper_final_message(client: Any) -> Any:
    async with client.messages.stream(**ask()) as stream:
        return await stream.get_final_message()


async def ahelper_abandoned(client: Any) -> Any:
    async with client.messages.stream(**ask()) as stream:
        async for event in stream:
            return event.type
    return None


async def araw_create(client: Any) -> Any:
    raw = await client.messages.with_raw_response.create(**ask())
    message = raw.parse()  # `LegacyAPIResponse.parse()` (SDK 0.x) is not awaitable
    return {"status": raw.status_code, "message": await message if inspect.isawaitable(message) else message}


async def astreaming_response_parse(client: Any) -> Any:
    async with client.messages.with_streaming_response.create(**ask()) as response:
        return {"status": response.status_code, "message": await response.parse()}


async def aparse_ticket(client: Any) -> Any:
    parsed = await client.messages.parse(**ask(), output_format=Ticket)
    return {"parsed": parsed.parsed_output, "message": parsed}


async def acount_tokens(client: Any) -> Any:
    return await client.messages.count_tokens(model=MODEL, messages=ask()["messages"])


async def abatch_results(client: Any) -> Any:
    batch = await client.messages.batches.create(requests=BATCH_REQUESTS)
    return [item async for item in await client.messages.batches.results(batch.id)]


async def abatch_list(client: Any) -> Any:
    page = await client.messages.batches.list()
    return {"has_more": page.has_more, "types": sorted({batch.type for batch in page.data})}


# -- the catalogue -----------------------------------------------------------------------------


def queue(*replies: Any) -> Callable[[FakeClaudeAPI], None]:
    return lambda api: api.queue(*replies)


OK = queue(MessageReply(text=TEXT, usage=USAGE))
# Long enough for the fake API to have received the request (it counts requests) on a busy 2-core machine.
TIMEOUT = {"timeout": 0.25}
RETRY = {"max_retries": 2}


def catalogue() -> list[Scenario]:
    """Every scenario the installed SDK supports (`parse` exists from SDK 0.77)."""
    s: list[Scenario] = [
        Scenario("create", create, OK),
        Scenario("create-default-reply", create),
        Scenario("create-tool-use", create, queue(MessageReply(tool_uses=[ToolUse("lookup", {"q": "x"})]))),
        Scenario("create-thinking", create, queue(MessageReply(text="answer", thinking="let me think"))),
        Scenario(
            "create-server-tools",
            create,
            queue(
                MessageReply(server_tool_use={"web_search_requests": 2}, server_tools=("web_search", "code_execution"))
            ),
        ),
        Scenario("create-odd-usage", create, queue(MessageReply(text="x", usage={"input_tokens": 0}))),
        Scenario("create-max-tokens-stop", create, queue(MessageReply(text="cut", stop_reason="max_tokens"))),
        *[Scenario(f"create-error-{status}", create, queue(ErrorReply(status))) for status in ERROR_STATUSES],
        Scenario("create-error-403", create, queue(ErrorReply(403, message="no access"))),
        Scenario("create-timeout", create, queue(Fault.delay(0.75)), options=TIMEOUT),
        Scenario("create-drop-mid-body", create, queue(Fault.drop_mid_body())),
        Scenario("create-malformed-json", create, queue(Fault.malformed_json())),
        Scenario("create-retry-succeeds", create, queue(ErrorReply(529, retry_after=0.01), OK), options=RETRY),
        Scenario(
            "create-retry-429-then-500-then-ok",
            create,
            queue(ErrorReply(429, retry_after=0.01), ErrorReply(500, retry_after=0.01), MessageReply(text="late")),
            options=RETRY,
        ),
        Scenario("create-retry-exhausted", create, queue(*[ErrorReply(500, retry_after=0.01)] * 3), options=RETRY),
        Scenario("create-retry-not-on-400", create, queue(ErrorReply(400), OK), options=RETRY),
        Scenario("stream-create-read", create_events, OK),
        Scenario("stream-create-tool-use", create_events, queue(MessageReply(tool_uses=[ToolUse("f", {"a": 1})]))),
        Scenario("stream-create-error-429", create_events, queue(ErrorReply(429))),
        Scenario("stream-create-drop-mid-stream", create_events, queue(Fault.drop_mid_stream(after_events=3))),
        Scenario("stream-create-truncated", create_events, queue(Fault.truncated_sse(after_events=4)), truncated=True),
        Scenario("stream-create-abandoned", create_stream_abandoned, OK, early=True),
        Scenario("stream-create-abandoned-in-with", create_stream_abandoned_in_with, OK, early=True),
        Scenario("stream-create-dropped", create_stream_dropped, OK, early=True),
        Scenario("stream-helper-text", helper_text, OK),
        Scenario("stream-helper-final-message", helper_final_message, OK),
        Scenario("stream-helper-abandoned", helper_abandoned, OK, early=True),
        Scenario("stream-helper-error-529", helper_text, queue(ErrorReply(529))),
        Scenario("stream-helper-drop-mid-stream", helper_text, queue(Fault.drop_mid_stream(after_events=4))),
        Scenario(
            "stream-helper-truncated", helper_final_message, queue(Fault.truncated_sse(after_events=5)), truncated=True
        ),
        Scenario("stream-retry-succeeds", create_events, queue(ErrorReply(429, retry_after=0.01), OK), options=RETRY),
        Scenario("raw-response", raw_create, OK),
        Scenario("raw-response-stream", raw_create_stream, OK),
        Scenario("raw-response-error-404", raw_create, queue(ErrorReply(404))),
        Scenario("streaming-response-parse", streaming_response_parse, OK),
        Scenario("streaming-response-unread", streaming_response_unread, OK),
        Scenario("streaming-response-sse-lines", streaming_response_sse_lines, OK),
        Scenario("streaming-response-error-500", streaming_response_parse, queue(ErrorReply(500))),
        Scenario("count-tokens", count_tokens),
        Scenario("count-tokens-error", count_tokens_error),
        Scenario("batch-create", batch_create),
        Scenario("batch-create-retrieve", batch_create_retrieve, calls=2),
        Scenario("batch-cancel", batch_cancel, calls=2),
        Scenario("batch-delete", batch_delete, calls=2),
        Scenario("batch-retrieve-missing", batch_retrieve_missing),
        Scenario("batch-list", batch_list),
        Scenario("batch-results", batch_results, calls=3),
        Scenario("beta-create", beta_create, OK),
        Scenario("async-create", acreate, OK, async_=True),
        Scenario("async-create-error-429", acreate, queue(ErrorReply(429)), async_=True),
        Scenario("async-create-error-529", acreate, queue(ErrorReply(529)), async_=True),
        Scenario("async-create-timeout", acreate, queue(Fault.delay(0.75)), async_=True, options=TIMEOUT),
        Scenario("async-create-drop-mid-body", acreate, queue(Fault.drop_mid_body()), async_=True),
        Scenario("async-create-malformed-json", acreate, queue(Fault.malformed_json()), async_=True),
        Scenario(
            "async-create-retry-succeeds",
            acreate,
            queue(ErrorReply(500, retry_after=0.01), OK),
            async_=True,
            options=RETRY,
        ),
        Scenario(
            "async-create-retry-exhausted",
            acreate,
            queue(*[ErrorReply(529, retry_after=0.01)] * 3),
            async_=True,
            options=RETRY,
        ),
        Scenario("async-stream-create-read", acreate_events, OK, async_=True),
        Scenario(
            "async-stream-drop-mid-stream", acreate_events, queue(Fault.drop_mid_stream(after_events=3)), async_=True
        ),
        Scenario(
            "async-stream-truncated",
            acreate_events,
            queue(Fault.truncated_sse(after_events=4)),
            truncated=True,
            async_=True,
        ),
        Scenario("async-stream-abandoned", acreate_stream_abandoned, OK, async_=True, early=True),
        Scenario("async-stream-helper-text", ahelper_text, OK, async_=True),
        Scenario("async-stream-helper-final-message", ahelper_final_message, OK, async_=True),
        Scenario("async-stream-helper-abandoned", ahelper_abandoned, OK, async_=True, early=True),
        Scenario("async-raw-response", araw_create, OK, async_=True),
        Scenario("async-streaming-response-parse", astreaming_response_parse, OK, async_=True),
        Scenario("async-count-tokens", acount_tokens, async_=True),
        Scenario("async-batch-list", abatch_list, async_=True),
        Scenario("async-batch-results", abatch_results, async_=True, calls=3),
    ]
    if HAS_PARSE:
        s += [
            Scenario("parse-pydantic", parse_ticket, queue(MessageReply(text='{"priority": "high"}'))),
            Scenario("parse-pydantic-invalid-json", parse_ticket, queue(MessageReply(text="not json"))),
            Scenario("parse-pydantic-error-429", parse_ticket, queue(ErrorReply(429))),
            Scenario(
                "async-parse-pydantic", aparse_ticket, queue(MessageReply(text='{"priority": "low"}')), async_=True
            ),
        ]
    return s
