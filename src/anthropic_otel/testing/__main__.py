"""`python -m anthropic_otel.testing [--host H] [--port P]`: run the fake Claude API in the foreground."""

from __future__ import annotations

import argparse
import time

from anthropic_otel.testing import FakeClaudeAPI


def main() -> None:
    parser = argparse.ArgumentParser(description="A local fake of the Claude API (no key, no network).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with FakeClaudeAPI(args.host, args.port) as api:
        print(f"fake Claude API at {api.base_url}  (ANTHROPIC_BASE_URL={api.base_url})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
