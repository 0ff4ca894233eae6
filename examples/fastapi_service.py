"""A small FastAPI service: each endpoint tags its Claude calls with a route, and the FastAPI
instrumentation puts every Claude span under the HTTP request's server span.

    ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-fake python examples/fastapi_service.py
    ... python examples/fastapi_service.py --serve      # or serve it on :8000 (needs uvicorn)

Without `--serve` it answers one request in-process (httpx's ASGI transport) and exits. Needs
`pip install fastapi opentelemetry-instrumentation-fastapi httpx`.
"""

from __future__ import annotations

import argparse
import asyncio

import anthropic
import httpx
from fastapi import FastAPI
from in_code import MODEL, setup_telemetry
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import BaseModel

from anthropic_otel._routes import route

shutdown = setup_telemetry("fastapi-example")
app = FastAPI(title="ticket triage")
FastAPIInstrumentor.instrument_app(app)
claude = anthropic.AsyncAnthropic()


class Ticket(BaseModel):
    text: str


@app.post("/triage")
async def triage(ticket: Ticket) -> dict[str, str]:
    with route("triage"):  # `anthropic.route` on the span, metrics and call record: cost per feature
        message = await claude.messages.create(
            model="claude-haiku-4-5",
            max_tokens=16,
            messages=[{"role": "user", "content": f"One word, the team for this ticket: {ticket.text}"}],
        )
    return {"team": message.content[0].text, "request_id": message._request_id or ""}


@app.post("/reply")
async def draft_reply(ticket: Ticket) -> dict[str, str]:
    with route("reply-draft"):
        message = await claude.messages.create(
            model=MODEL,
            max_tokens=256,
            messages=[{"role": "user", "content": f"Draft a short, kind reply to: {ticket.text}"}],
        )
    return {"reply": message.content[0].text, "request_id": message._request_id or ""}


async def one_request() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ticket-triage") as http:
        response = await http.post("/triage", json={"text": "Order A-1042 was charged twice."})
    response.raise_for_status()
    print(f"POST /triage -> {response.status_code} {response.json()}")
    print(f"request id: {response.json()['request_id']}")


def main() -> None:
    parser = argparse.ArgumentParser(description="the ticket-triage service")
    parser.add_argument("--serve", action="store_true", help="serve on http://127.0.0.1:8000 with uvicorn")
    if parser.parse_args().serve:
        import uvicorn  # noqa: PLC0415 - only for --serve

        uvicorn.run(app, host="127.0.0.1", port=8000)
    else:
        asyncio.run(one_request())
    shutdown()


if __name__ == "__main__":
    main()
