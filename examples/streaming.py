"""Streaming: the span covers the whole stream, with the time to first token and the final usage.

    ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-fake python examples/streaming.py

The span ends when the stream does (read to the end, closed early or broken), and carries
`gen_ai.response.time_to_first_chunk`; the tokens come from the stream's final `message_delta`.
"""

from __future__ import annotations

import anthropic
from in_code import MODEL, setup_telemetry


def main() -> None:
    shutdown = setup_telemetry("streaming-example")
    client = anthropic.Anthropic()
    messages = [{"role": "user", "content": "Draft a two-sentence apology for a double charge."}]
    with client.messages.stream(model=MODEL, max_tokens=256, messages=messages) as stream:
        for text in stream.text_stream:
            print(text, end="", flush=True)
        message = stream.get_final_message()
    print()
    print(f"request id: {stream.request_id}")
    print(f"tokens: {message.usage.input_tokens} in, {message.usage.output_tokens} out")
    shutdown()


if __name__ == "__main__":
    main()
