"""The rows of a price table: the prices of one model in one price list, and how a row is read and checked.

Every rate is USD per million tokens (web search: per 1,000 searches); a rate given as `null` is
not published, and a call with tokens in that category gets no cost. A row of a user's file is
checked as strictly as the shipped one: an unknown key (a typo) or a negative price fails with a
message that names where. Pure data and parsing: no OpenTelemetry here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

__all__ = [
    "RATE_FIELDS",
    "LongContext",
    "ModelPrice",
    "PriceTableError",
    "Rates",
    "Tier",
    "date_of",
    "mapping",
    "rows_of",
]

RATE_FIELDS = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
_ROW_FIELDS = {*RATE_FIELDS, "long_context", "tiers", "fast", "web_search", "profiles"}
_ROW_FIELDS |= {"effective_date", "source", "name", "note"}


class PriceTableError(ValueError):
    """A price table (file or mapping) that cannot be used; the message names where and why."""


@dataclass(frozen=True)
class Rates:
    """USD per million tokens for each billing category of one model (or one of its modes); None: unpublished."""

    input: Optional[float]
    cache_write_5m: Optional[float]
    cache_write_1h: Optional[float]
    cache_read: Optional[float]
    output: Optional[float]


@dataclass(frozen=True)
class LongContext:
    """Surcharge on a whole request whose prompt exceeds `threshold`; input multiplier covers cache too."""

    threshold: int
    input_multiplier: float
    output_multiplier: float


@dataclass(frozen=True)
class Tier:
    """Prices for every token of a request whose prompt exceeds `threshold` tokens (Haiku 5.5, Sonnet 4.5)."""

    threshold: int
    rates: Rates


@dataclass(frozen=True)
class ModelPrice(Rates):
    """One row of a price list: standard rates plus the rules that change them for some requests.

    `web_search` is USD per 1,000 web searches (None: unpublished); `profiles`, on Bedrock regional
    rows, the inference-profile geographies (`us`, `eu`, ..., `in-region`) the price is published for.
    """

    long_context: Optional[LongContext] = None
    tiers: tuple[Tier, ...] = ()
    fast: Optional[Rates] = None
    effective_date: Optional[date] = None
    source: str = "pricing-page"
    web_search: Optional[float] = None
    profiles: Optional[frozenset[str]] = None

    def rates_for(self, prompt_tokens: int, *, fast: bool = False) -> Optional[Rates]:
        """The rates a request pays: fast mode's (None if the model has none), else its prompt-length tier's."""
        if fast:
            return self.fast
        chosen: Rates = self
        for tier in sorted(self.tiers, key=lambda t: t.threshold):
            if prompt_tokens > tier.threshold:
                chosen = tier.rates
        return chosen


def mapping(value: object, where: str, allowed: Optional[Collection[str]] = None) -> Mapping[str, Any]:
    """`value` as a mapping with only `allowed` keys: a typo in a user's file must fail, not be ignored."""
    if not isinstance(value, Mapping):
        raise PriceTableError(f"{where}: expected a table/object, got {type(value).__name__}")
    unknown = sorted(str(key) for key in value if allowed is not None and key not in allowed)
    if unknown:
        raise PriceTableError(f"{where}: unknown keys {unknown}; allowed: {sorted(allowed or ())}")
    return value


def _required(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise PriceTableError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def _number(value: object, where: str) -> Optional[float]:
    """A price, or None where it is given as null (not published)."""
    return None if value is None else _required(value, where)


def _threshold(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PriceTableError(f"{where}: expected a token count, got {value!r}")
    return value


def date_of(value: object, where: str) -> Optional[date]:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PriceTableError(f"{where}: expected a date like 2026-11-24, got {value!r}") from None


def _rates(data: Mapping[str, Any], where: str) -> dict[str, Optional[float]]:
    """The five rates of a row; each must be given, as a number or as null (unpublished)."""
    missing = [name for name in RATE_FIELDS if name not in data]
    if missing:
        raise PriceTableError(f"{where}: missing prices {missing} (USD per million tokens; null if unpublished)")
    return {name: _number(data[name], f"{where}.{name}") for name in RATE_FIELDS}


def rows_of(value: object, where: str, effective: Optional[date], source: str) -> dict[str, ModelPrice]:
    models = mapping(value, where)
    return {str(key): _row(row, f"{where}.{key}", effective, source) for key, row in models.items()}


def _row(value: object, where: str, effective: Optional[date], source: str) -> ModelPrice:
    data = mapping(value, where, _ROW_FIELDS)
    long_context = None
    if "long_context" in data:
        lc_where = f"{where}.long_context"
        lc = mapping(data["long_context"], lc_where, ("threshold", "input_multiplier", "output_multiplier"))
        long_context = LongContext(
            _threshold(lc.get("threshold"), f"{lc_where}.threshold"),
            *(_required(lc.get(k), f"{lc_where}.{k}") for k in ("input_multiplier", "output_multiplier")),
        )
    tiers, tier_items = [], data.get("tiers", [])
    if not isinstance(tier_items, list):
        raise PriceTableError(f"{where}.tiers: expected a list of tables")
    for index, item in enumerate(tier_items):
        tier = mapping(item, f"{where}.tiers[{index}]", ("threshold", *RATE_FIELDS))
        threshold = _threshold(tier.get("threshold"), f"{where}.tiers[{index}].threshold")
        tiers.append(Tier(threshold, Rates(**_rates(tier, f"{where}.tiers[{index}]"))))
    fast = None
    if "fast" in data:
        fast = Rates(**_rates(mapping(data["fast"], f"{where}.fast", RATE_FIELDS), f"{where}.fast"))
    profiles = data.get("profiles")
    if profiles is not None and (not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles)):
        raise PriceTableError(f"{where}.profiles: expected a list of inference-profile prefixes, got {profiles!r}")
    return ModelPrice(
        **_rates(data, where),
        long_context=long_context,
        tiers=tuple(sorted(tiers, key=lambda t: t.threshold)),
        fast=fast,
        effective_date=date_of(data.get("effective_date"), f"{where}.effective_date") or effective,
        source=str(data.get("source", source)),
        web_search=_number(data.get("web_search"), f"{where}.web_search"),
        profiles=None if profiles is None else frozenset(profiles),
    )
