"""Zero-code: an app with no OpenTelemetry code at all; `opentelemetry-instrument` adds it.

    set -a; . examples/zero_code/.env.example; set +a      # the usual OTEL_* variables
    opentelemetry-instrument python examples/zero_code/app.py

`opentelemetry-instrument` sets up providers and exporters from the environment and finds
anthropic-otel through its entry point (`anthropic_otel`); every call below gets its span.
"""

from __future__ import annotations

import anthropic


def main() -> None:
    client = anthropic.Anthropic()  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment
    message = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=16,
        messages=[{"role": "user", "content": "One word, the team for: 'I was charged twice.'"}],
    )
    print(f"reply: {message.content[0].text}")
    print(f"request id: {message._request_id}")


if __name__ == "__main__":
    main()
