"""Message Batches: submit tickets, wait for the batch, then match each result to its ticket by `custom_id`.

    ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-fake python examples/batch.py

Results come back in any order, so each request gets a `custom_id` (here the ticket id) and the
results are looked up by it. Every batch call (create, retrieve, results) is a span of its own,
`anthropic.messages.batches.<method>`, with its request id.
"""

from __future__ import annotations

import time

import anthropic
from in_code import setup_telemetry

TICKETS = {
    "ticket-47931": "Where is my parcel? It was due on Monday.",
    "ticket-47932": "Please close my account and delete my data.",
    "ticket-47933": "Order A-1042 was charged twice.",
}
POLL_SECONDS, MAX_WAIT_SECONDS = 10.0, 24 * 3600.0


def main() -> None:
    shutdown = setup_telemetry("batch-example")
    client = anthropic.Anthropic()
    requests = [
        {
            "custom_id": ticket_id,
            "params": {
                "model": "claude-haiku-4-5",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": f"One word, the team for this ticket: {text}"}],
            },
        }
        for ticket_id, text in TICKETS.items()
    ]
    batch = client.messages.batches.create(requests=requests)
    print(f"batch {batch.id} created, request id: {batch._request_id}")
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while batch.processing_status != "ended" and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        batch = client.messages.batches.retrieve(batch.id)
    answers = {}
    for result in client.messages.batches.results(batch.id):
        if result.result.type == "succeeded":
            answers[result.custom_id] = result.result.message.content[0].text
        else:
            answers[result.custom_id] = f"({result.result.type})"
    for ticket_id, text in TICKETS.items():  # the lookup by custom_id
        print(f"{ticket_id}: {answers.get(ticket_id, '(no result)')}  <- {text}")
    shutdown()


if __name__ == "__main__":
    main()
