"""The telemetry the hooks report to: what `instrument()` set up, or None (every hook passes through).

One holder that every hook module reads, so that `instrument()` and `uninstrument()` switch all
of them at once, and calls already in flight keep the telemetry they started under.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from anthropic_otel._telemetry import Telemetry

__all__ = ["Wrapped", "set_telemetry", "telemetry"]

Wrapped = Callable[..., Any]

telemetry: Optional[Telemetry] = None


def set_telemetry(new: Optional[Telemetry]) -> None:
    """Point the hooks at what `instrument()` set up; `None` makes every hook a pass-through.

    The telemetry replaced is marked inactive: calls still in flight under it end with it, but
    must not expect hooks that `uninstrument()` has removed (see `end._span_to_end`).
    """
    global telemetry  # noqa: PLW0603 - the one switch every hook reads
    if telemetry is not None and telemetry is not new:
        telemetry.active = False
    telemetry = new
