"""Counters and gauges summed in process, read by the SDK only when it collects.

Every SDK measurement costs about 10 µs (attribute hashing, the aggregation lock, exemplar
sampling). A call would make up to a dozen of them for cost by category, cache tokens, savings
and rate-limit headroom; here each is one dict update under a lock, and the SDK reads the totals
through an observable instrument's callback at collection time. The price: those points carry no
exemplars (histograms, which link latency and tokens to traces, stay synchronous).

Keys are the attribute sets, which are low-cardinality by construction (bounded routes and
models); a cap stops a runaway set all the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from anthropic_otel._read.attributes import AttributeValue

__all__ = ["MAX_SERIES", "SeriesKey", "Totals", "series_key"]

log = logging.getLogger(__name__)

MAX_SERIES = 2000  # attribute sets per instrument; more means a bug upstream, not traffic

SeriesKey = frozenset[tuple[str, Any]]


def series_key(attributes: Mapping[str, AttributeValue]) -> SeriesKey:
    """The key of an attribute set's series; callers that update one series often keep it
    (a frozenset remembers its hash), so that an update hashes nothing new."""
    return frozenset(attributes.items())


class Totals:
    """What one observable counter (sums) or gauge (last values) reports, by attribute set."""

    __slots__ = ("_gauge", "_lock", "_values")

    def __init__(self, *, gauge: bool = False) -> None:
        self._gauge = gauge
        self._lock = threading.Lock()
        self._values: dict[SeriesKey, float] = {}

    @classmethod
    def counter(cls, meter: Meter, name: str, unit: str, description: str) -> Totals:
        totals = cls()
        meter.create_observable_counter(name, callbacks=[totals.observe], unit=unit, description=description)
        return totals

    @classmethod
    def last_value(cls, meter: Meter, name: str, unit: str, description: str) -> Totals:
        totals = cls(gauge=True)
        meter.create_observable_gauge(name, callbacks=[totals.observe], unit=unit, description=description)
        return totals

    def add(self, amount: float, attributes: Mapping[str, AttributeValue], context: Any = None) -> None:
        """Add `amount` to the series of `attributes` (a counter's `add`; `context` is accepted and unused)."""
        self.update(amount, series_key(attributes))

    def update(self, value: float, key: SeriesKey) -> None:
        """`add`, or on a gauge `set`, by a key from `series_key`."""
        with self._lock:
            current = self._values.get(key)
            if current is None and len(self._values) >= MAX_SERIES:
                log.debug("anthropic-otel: more than %d attribute sets on one instrument; dropped", MAX_SERIES)
                return
            self._values[key] = value if self._gauge or current is None else current + value

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """The callback the SDK calls when it collects: one observation per series."""
        with self._lock:
            items = list(self._values.items())
        return [Observation(value, dict(key)) for key, value in items]
