"""The end-to-end stage of the observability stack (tests/stack), run by scripts/stack-e2e.

Its tests need the real collector, Jaeger and Prometheus that the script starts; they are
marked `stack` and skip themselves unless ANTHROPIC_OTEL_STACK=1. The default suite leaves
this folder out (`--ignore=tests/stack`).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stack: end-to-end test against a real collector, Jaeger and Prometheus "
        "(scripts/stack-e2e; needs ANTHROPIC_OTEL_STACK=1)",
    )
