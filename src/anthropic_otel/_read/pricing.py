"""What a Claude API call cost, in USD, from its usage object and the price table (`price_table`).

Each input token is billed in exactly one category: `input_tokens` (uncached only), 5-minute or
1-hour cache writes, or cache reads. Web searches are billed per 1,000 (`server_tool_use`), at the
row's `web_search` price, with no batch discount. A model the table does not know, or a category
with tokens in it and no published price, gets no cost (`None`), never a guess. Pure arithmetic:
no OpenTelemetry here, nothing raises on odd usage objects (missing, negative or non-integer
counts are 0).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

from anthropic_otel._read.attributes import field, ints
from anthropic_otel._read.price_rows import Rates
from anthropic_otel._read.price_table import FIRST_PARTY, PriceTable

__all__ = ["COST_CATEGORIES", "Cost", "UnpricedModels", "cost_of"]

# Values of `anthropic.cost.category`.
COST_CATEGORIES = ("input", "cache_write", "cache_read", "output", "web_search")
_PER_TOKEN = 1_000_000
_PER_SEARCH = 1_000


@dataclass(frozen=True)
class Cost:
    """USD per billing category of one call; `cache_saving` is what caching saved (not part of `total`)."""

    input: float
    cache_write: float
    cache_read: float
    output: float
    cache_saving: float = 0.0
    batch: bool = False
    web_search: float = 0.0

    @property
    def total(self) -> float:
        return self.input + self.cache_write + self.cache_read + self.output + self.web_search

    @property
    def amounts(self) -> tuple[float, ...]:
        """The values in the order of `COST_CATEGORIES`."""
        return (self.input, self.cache_write, self.cache_read, self.output, self.web_search)

    def by_category(self) -> dict[str, float]:
        """Values keyed by `anthropic.cost.category` (`input`, `cache_write`, `cache_read`, `output`, `web_search`)."""
        return dict(zip(COST_CATEGORIES, self.amounts))


_USAGE_COUNTS = ("input_tokens", "cache_read_input_tokens", "output_tokens", "cache_creation_input_tokens")
_CACHE_SPLIT = ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens")
_SEARCHES = ("web_search_requests",)


def _counts(obj: object, names: tuple[str, ...]) -> list[int]:
    """The counts `names` of `obj` (0 where absent, not an integer, or negative), read in one go."""
    if obj is None:
        return [0] * len(names)
    return [max(value or 0, 0) for value in ints(obj, *names)]


def _priced(count: int, rate: Optional[float]) -> Optional[float]:
    """`count` tokens at `rate`; None when there are tokens and no published rate."""
    if not count:
        return 0.0
    return None if rate is None else count * rate


def cost_of(
    usage: object,
    model: Optional[str],
    table: PriceTable,
    *,
    batch: bool = False,
    fast: bool = False,
    price_list: str = FIRST_PARTY,
    profile: Optional[str] = None,
) -> Optional[Cost]:
    """The cost of one call's `usage` (an SDK `Usage` object or a dict of the API's fields).

    None when the model (or its fast mode, or a category the call used) has no price in
    `price_list`, or its row is not published for the Bedrock inference `profile` the call used.
    `service_tier == "batch"` also means batch (50% of every token category), `speed == "fast"`
    also means fast mode. Cache writes without the 5m/1h split are 5-minute writes. Long-context
    surcharges and prompt-length tiers look at the whole prompt: uncached input + cache reads +
    cache writes.
    """
    price = table.lookup(model, price_list) if isinstance(model, str) else None
    if price is None or (profile is not None and price.profiles is not None and profile not in price.profiles):
        return None
    batch = batch or field(usage, "service_tier") == "batch"
    fast = fast or field(usage, "speed") == "fast"
    uncached, read, output, written = _counts(usage, _USAGE_COUNTS)
    write_1h, split_5m = _counts(field(usage, "cache_creation"), _CACHE_SPLIT)
    write_5m = max(split_5m, written - write_1h)
    (searches,) = _counts(field(usage, "server_tool_use"), _SEARCHES)
    prompt = uncached + read + write_5m + write_1h
    rates = price.rates_for(prompt, fast=fast)
    if rates is None:
        return None
    amounts = _amounts(rates, (uncached, write_5m, write_1h, read, output))
    web_search = _priced(searches, price.web_search)
    if amounts is None or web_search is None:
        return None
    input_usd, write_5m_usd, write_1h_usd, read_usd, output_usd = amounts
    # USD per token for input-side and output-side categories: batch halves both, long context raises them.
    input_factor = output_factor = (0.5 if batch else 1.0) / _PER_TOKEN
    if price.long_context is not None and prompt > price.long_context.threshold:
        input_factor *= price.long_context.input_multiplier
        output_factor *= price.long_context.output_multiplier
    cache_read = read_usd * input_factor
    saving = read * rates.input * input_factor - cache_read if rates.input is not None else 0.0
    return Cost(
        input=input_usd * input_factor,
        cache_write=(write_5m_usd + write_1h_usd) * input_factor,
        cache_read=cache_read,
        output=output_usd * output_factor,
        cache_saving=max(saving, 0.0),
        batch=batch,
        web_search=web_search / _PER_SEARCH,
    )


def _amounts(rates: Rates, counts: tuple[int, int, int, int, int]) -> Optional[list[float]]:
    """Tokens times rates (USD per million) for uncached input, 5m and 1h writes, reads and output;
    None if a category used has no published rate."""
    uncached, write_5m, write_1h, read, output = counts
    amounts = [
        _priced(uncached, rates.input),
        _priced(write_5m, rates.cache_write_5m),
        _priced(write_1h, rates.cache_write_1h),
        _priced(read, rates.cache_read),
        _priced(output, rates.output),
    ]
    found = [amount for amount in amounts if amount is not None]
    return found if len(found) == len(amounts) else None


class UnpricedModels:
    """Which unknown models were already reported, so a process warns once per model (thread-safe).

    Bounded: after `limit` distinct models it stops reporting rather than grow without end.
    """

    def __init__(self, limit: int = 1000) -> None:
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def first_time(self, model: str) -> bool:
        """True exactly once per model: the caller should warn now."""
        with self._lock:
            if model in self._seen or len(self._seen) >= self._limit:
                return False
            self._seen.add(model)
            return True
