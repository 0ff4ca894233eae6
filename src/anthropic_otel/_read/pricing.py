"""What a Claude API call cost, in USD, from its usage object and a price table kept as data.

Prices change and differ per model, so they live in `prices.json` (with an effective date) and
users override or extend them with a file (`ANTHROPIC_OTEL_PRICES=path.toml` or `.json`) or in
code (`PriceTable.merged`). A model the table does not know gets no cost (`None`), never a guess.

Keys are model-id prefixes and the longest matching key wins, so a dated snapshot
(`claude-sonnet-4-6-20260101`, `claude-sonnet-4-5@20250929`) gets its family's row. A key never
matches a *newer version* of itself: `claude-fable-5` does not price `claude-fable-5-2`, nor
`claude-opus-4-1` price `claude-opus-4-10`. A key ending in `*` is a plain prefix for users who
want one (`"claude-sonnet-*"`).

Each input token is billed in exactly one category: `input_tokens` (uncached only), 5-minute or
1-hour cache writes, or cache reads. Pure arithmetic: no OpenTelemetry here, nothing raises on
odd usage objects (missing, negative or non-integer counts are 0).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

from anthropic_otel._read.attributes import field

__all__ = [
    "COST_CATEGORIES",
    "Cost",
    "LongContext",
    "ModelPrice",
    "PriceTable",
    "PriceTableError",
    "Rates",
    "Tier",
    "UnpricedModels",
    "cost_of",
]

log = logging.getLogger(__name__)

COST_CATEGORIES = ("input", "cache_write", "cache_read", "output")  # values of `anthropic.cost.category`
_RATE_FIELDS = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
_ROW_FIELDS = {*_RATE_FIELDS, "long_context", "tiers", "fast", "effective_date", "source", "name", "note"}
_TABLE_FIELDS = {"models", "effective_date", "currency", "unit", "source", "note"}
# After a key, a dash and a one- or two-digit number is a newer version, not a snapshot suffix.
_NEWER_VERSION = re.compile(r"-\d{1,2}(?!\d)")
_PER_TOKEN = 1_000_000


class PriceTableError(ValueError):
    """A price table (file or mapping) that cannot be used; the message names where and why."""


@dataclass(frozen=True)
class Rates:
    """USD per million tokens for each billing category of one model (or one of its modes)."""

    input: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    output: float


@dataclass(frozen=True)
class LongContext:
    """Surcharge on a whole request whose prompt exceeds `threshold`; input multiplier covers cache too."""

    threshold: int
    input_multiplier: float
    output_multiplier: float


@dataclass(frozen=True)
class Tier:
    """Prices for every token of a request whose prompt exceeds `threshold` tokens (Haiku 5.5)."""

    threshold: int
    rates: Rates


@dataclass(frozen=True)
class ModelPrice(Rates):
    """One row of the table: standard rates plus the rules that change them for some requests."""

    long_context: LongContext | None = None
    tiers: tuple[Tier, ...] = ()
    fast: Rates | None = None
    effective_date: date | None = None
    source: str = "pricing-page"

    def rates_for(self, prompt_tokens: int, *, fast: bool = False) -> Rates | None:
        """The rates a request pays: fast mode's (None if the model has none), else its prompt-length tier's."""
        if fast:
            return self.fast
        chosen: Rates = self
        for tier in sorted(self.tiers, key=lambda t: t.threshold):
            if prompt_tokens > tier.threshold:
                chosen = tier.rates
        return chosen


@dataclass(frozen=True)
class Cost:
    """USD per billing category of one call; `cache_saving` is what caching saved (not part of `total`)."""

    input: float
    cache_write: float
    cache_read: float
    output: float
    cache_saving: float = 0.0
    batch: bool = False

    @property
    def total(self) -> float:
        return self.input + self.cache_write + self.cache_read + self.output

    def by_category(self) -> dict[str, float]:
        """Values keyed by `anthropic.cost.category` (`input`, `cache_write`, `cache_read`, `output`)."""
        return dict(zip(COST_CATEGORIES, (self.input, self.cache_write, self.cache_read, self.output)))


_MAX_REMEMBERED = 512  # distinct model ids whose lookup a table remembers


class PriceTable:
    """Model-id prefix → `ModelPrice`, immutable; combine tables with `merged`."""

    def __init__(self, rows: Mapping[str, ModelPrice], *, effective_date: date | None = None) -> None:
        self.rows: Mapping[str, ModelPrice] = MappingProxyType(
            {key.strip().lower(): price for key, price in rows.items()}
        )
        self.effective_date = effective_date
        # Longest stem first; at equal length an exact key beats a wildcard.
        self._order = sorted(self.rows, key=lambda k: (-len(k.rstrip("*")), k.endswith("*")))
        # Model id -> row (or None), so that a call does not scan every key; bounded, since ids come from users.
        self._found: dict[str, ModelPrice | None] = {}

    def lookup(self, model: str) -> ModelPrice | None:
        """The row of the longest key that prices `model`, or None: an unknown model is never guessed."""
        try:
            return self._found[model]
        except KeyError:
            pass
        wanted = model.strip().lower()
        found = next((self.rows[key] for key in self._order if _key_matches(key, wanted)), None)
        if len(self._found) < _MAX_REMEMBERED:
            self._found[model] = found
        return found

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s rows added, replacing rows with the same key."""
        return PriceTable({**self.rows, **other.rows}, effective_date=other.effective_date or self.effective_date)

    @classmethod
    def load_default(cls) -> PriceTable:
        """The table shipped with the package (`prices.json`), parsed once per process (it is immutable)."""
        return _default_table()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PriceTable:
        """Read a `.json` or `.toml` file in the format of `prices.json`; raises `PriceTableError`."""
        file = Path(path)
        suffix = file.suffix.lower()
        if suffix not in (".json", ".toml"):
            raise PriceTableError(f"{file}: unsupported price file type {suffix!r}; use .json or .toml")
        loads = json.loads if suffix == ".json" else _toml_loads(file)
        try:
            data = loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: bad UTF-8, JSON or TOML
            raise PriceTableError(f"{file}: cannot read: {exc}") from exc
        return cls.from_mapping(data, origin=str(file))

    @classmethod
    def from_mapping(cls, data: object, *, origin: str = "price table") -> PriceTable:
        """Build a table from parsed data (`{"effective_date": ..., "models": {prefix: row}}`)."""
        table = _mapping(data, origin, _TABLE_FIELDS)
        if table.get("currency", "USD") != "USD":
            raise PriceTableError(f"{origin}: currency must be USD, got {table['currency']!r}")
        effective = _date(table.get("effective_date"), f"{origin}: effective_date")
        source = table.get("source", "custom")
        models = _mapping(table.get("models", {}), f"{origin}: models")
        rows = {str(key): _row(row, f"{origin}: models.{key}", effective, str(source)) for key, row in models.items()}
        return cls(rows, effective_date=effective)


@functools.lru_cache(maxsize=1)
def _default_table() -> PriceTable:
    text = resources.files("anthropic_otel._read").joinpath("prices.json").read_text(encoding="utf-8")
    return PriceTable.from_mapping(json.loads(text), origin="anthropic_otel/_read/prices.json")


def _key_matches(key: str, model: str) -> bool:
    if key.endswith("*"):
        return model.startswith(key[:-1])
    if model == key:
        return True
    if not model.startswith(key) or model[len(key)] not in "-@:":
        return False
    return _NEWER_VERSION.match(model, len(key)) is None


def _toml_loads(path: Path) -> Callable[[str], Any]:
    """tomllib (3.11+) or tomli if installed; imported lazily so Python 3.9 imports this module fine."""
    for name in ("tomllib", "tomli"):
        try:
            loads: Callable[[str], Any] = importlib.import_module(name).loads
        except ImportError:
            continue
        return loads
    raise PriceTableError(f"{path}: reading TOML needs Python 3.11+ or `pip install tomli`; or use a .json file")


def _mapping(value: object, where: str, allowed: Collection[str] | None = None) -> Mapping[str, Any]:
    """`value` as a mapping with only `allowed` keys: a typo in a user's file must fail, not be ignored."""
    if not isinstance(value, Mapping):
        raise PriceTableError(f"{where}: expected a table/object, got {type(value).__name__}")
    unknown = sorted(str(key) for key in value if allowed is not None and key not in allowed)
    if unknown:
        raise PriceTableError(f"{where}: unknown keys {unknown}; allowed: {sorted(allowed or ())}")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise PriceTableError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def _threshold(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PriceTableError(f"{where}: expected a token count, got {value!r}")
    return value


def _date(value: object, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PriceTableError(f"{where}: expected a date like 2026-11-24, got {value!r}") from None


def _rates(data: Mapping[str, Any], where: str) -> dict[str, float]:
    missing = [name for name in _RATE_FIELDS if name not in data]
    if missing:
        raise PriceTableError(f"{where}: missing prices {missing} (USD per million tokens)")
    return {name: _number(data[name], f"{where}.{name}") for name in _RATE_FIELDS}


def _row(value: object, where: str, effective: date | None, source: str) -> ModelPrice:
    data = _mapping(value, where, _ROW_FIELDS)
    long_context = None
    if "long_context" in data:
        lc_where = f"{where}.long_context"
        lc = _mapping(data["long_context"], lc_where, ("threshold", "input_multiplier", "output_multiplier"))
        long_context = LongContext(
            _threshold(lc.get("threshold"), f"{lc_where}.threshold"),
            *(_number(lc.get(k), f"{lc_where}.{k}") for k in ("input_multiplier", "output_multiplier")),
        )
    tiers, tier_items = [], data.get("tiers", [])
    if not isinstance(tier_items, list):
        raise PriceTableError(f"{where}.tiers: expected a list of tables")
    for index, item in enumerate(tier_items):
        tier = _mapping(item, f"{where}.tiers[{index}]", ("threshold", *_RATE_FIELDS))
        threshold = _threshold(tier.get("threshold"), f"{where}.tiers[{index}].threshold")
        tiers.append(Tier(threshold, Rates(**_rates(tier, f"{where}.tiers[{index}]"))))
    fast = None
    if "fast" in data:
        fast = Rates(**_rates(_mapping(data["fast"], f"{where}.fast", _RATE_FIELDS), f"{where}.fast"))
    return ModelPrice(
        **_rates(data, where),
        long_context=long_context,
        tiers=tuple(sorted(tiers, key=lambda t: t.threshold)),
        fast=fast,
        effective_date=_date(data.get("effective_date"), f"{where}.effective_date") or effective,
        source=str(data.get("source", source)),
    )


def _count(obj: object, name: str) -> int:
    value = field(obj, name)
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def cost_of(
    usage: object, model: str | None, table: PriceTable, *, batch: bool = False, fast: bool = False
) -> Cost | None:
    """The cost of one call's `usage` (an SDK `Usage` object or a dict of the API's fields).

    None when the model (or its fast mode) has no price. `service_tier == "batch"` also means
    batch (50% of every category), `speed == "fast"` also means fast mode. Cache writes without
    the 5m/1h split are 5-minute writes. Long-context surcharges and prompt-length tiers look at
    the whole prompt: uncached input + cache reads + cache writes.
    """
    price = table.lookup(model) if isinstance(model, str) else None
    if price is None:
        return None
    batch = batch or field(usage, "service_tier") == "batch"
    fast = fast or field(usage, "speed") == "fast"
    uncached = _count(usage, "input_tokens")
    read = _count(usage, "cache_read_input_tokens")
    output = _count(usage, "output_tokens")
    split = field(usage, "cache_creation")
    write_1h = _count(split, "ephemeral_1h_input_tokens")
    write_5m = max(_count(split, "ephemeral_5m_input_tokens"), _count(usage, "cache_creation_input_tokens") - write_1h)
    prompt = uncached + read + write_5m + write_1h
    rates = price.rates_for(prompt, fast=fast)
    if rates is None:
        return None
    # USD per token for input-side and output-side categories: batch halves both, long context raises them.
    input_factor = output_factor = (0.5 if batch else 1.0) / _PER_TOKEN
    if price.long_context is not None and prompt > price.long_context.threshold:
        input_factor *= price.long_context.input_multiplier
        output_factor *= price.long_context.output_multiplier
    cache_read = read * rates.cache_read * input_factor
    return Cost(
        input=uncached * rates.input * input_factor,
        cache_write=(write_5m * rates.cache_write_5m + write_1h * rates.cache_write_1h) * input_factor,
        cache_read=cache_read,
        output=output * rates.output * output_factor,
        cache_saving=max(read * rates.input * input_factor - cache_read, 0.0),
        batch=batch,
    )


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
