"""The price table: USD prices per model-id prefix, per price list, kept as data and checked as it is read.

Prices change and differ per model and per platform, so they live in `prices.json` (generated from
the `genai-prices` package, with effective dates) and users override or extend them with a file
(`ANTHROPIC_OTEL_PRICES=path.toml` or `.json`) or in code (`PriceTable.merged`).

There is one price list per place a model is bought: the Claude API's (`models`), and the
platforms' (`platforms`): `aws.bedrock/global` (global cross-region inference profiles),
`aws.bedrock/regional` (in-region ids and geographic profiles such as `us.`, whose rows say which
geographies they are published for in `profiles`), `gcp.vertex_ai/global` and `/regional`,
`azure.foundry`. A model a list does not have gets no price there, never another list's.

Keys are model-id prefixes and the longest matching key wins, so a dated snapshot
(`claude-sonnet-4-6-20260101`, `claude-sonnet-4-5@20250929`) gets its family's row. A key never
matches a *newer version* of itself: `claude-fable-5` does not price `claude-fable-5-2`, nor
`claude-opus-4-1` price `claude-opus-4-10`. A key ending in `*` is a plain prefix for users who
want one (`"claude-sonnet-*"`). A price given as `null` is not published: a call with tokens in
that category gets no cost. Pure data and parsing: no OpenTelemetry here.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Optional

from anthropic_otel._read.price_rows import (
    LongContext,
    ModelPrice,
    PriceTableError,
    Rates,
    Tier,
    date_of,
    mapping,
    rows_of,
)

__all__ = [
    "FIRST_PARTY",
    "PRICE_LISTS",
    "LongContext",
    "ModelPrice",
    "PriceTable",
    "PriceTableError",
    "Rates",
    "Tier",
]

FIRST_PARTY = "anthropic"  # the Claude API's own price list: the table's `models`
PRICE_LISTS = (
    FIRST_PARTY,
    "aws.bedrock/global",
    "aws.bedrock/regional",
    "gcp.vertex_ai/global",
    "gcp.vertex_ai/regional",
    "azure.foundry",
)
_TABLE_FIELDS = {"models", "platforms", "effective_date", "currency", "unit", "source", "note"}
# After a key, a dash and a one- or two-digit number is a newer version, not a snapshot suffix.
_NEWER_VERSION = re.compile(r"-\d{1,2}(?!\d)")
_MAX_REMEMBERED = 512  # distinct model ids whose lookup a price list remembers


class _PriceList:
    """The rows of one price list, with the order they are tried in and the lookups remembered."""

    __slots__ = ("found", "order", "rows")

    def __init__(self, rows: Mapping[str, ModelPrice]) -> None:
        self.rows: Mapping[str, ModelPrice] = MappingProxyType({key.strip().lower(): row for key, row in rows.items()})
        # Longest stem first; at equal length an exact key beats a wildcard.
        self.order = sorted(self.rows, key=lambda k: (-len(k.rstrip("*")), k.endswith("*")))
        # Model id -> row (or None), so that a call does not scan every key; bounded, since ids come from users.
        self.found: dict[str, Optional[ModelPrice]] = {}

    def lookup(self, model: str) -> Optional[ModelPrice]:
        try:
            return self.found[model]
        except KeyError:
            pass
        wanted = model.strip().lower()
        row = next((self.rows[key] for key in self.order if _key_matches(key, wanted)), None)
        if len(self.found) < _MAX_REMEMBERED:
            self.found[model] = row
        return row


class PriceTable:
    """Price list name -> (model-id prefix -> `ModelPrice`), immutable; combine tables with `merged`.

    `rows` are the Claude API's own prices (the `anthropic` list), `platforms` the other lists.
    """

    def __init__(
        self,
        rows: Mapping[str, ModelPrice],
        *,
        effective_date: Optional[date] = None,
        platforms: Optional[Mapping[str, Mapping[str, ModelPrice]]] = None,
    ) -> None:
        self._lists = {FIRST_PARTY: _PriceList(rows)}
        for name, platform_rows in (platforms or {}).items():
            self._lists[name] = _PriceList(platform_rows)
        self.rows = self._lists[FIRST_PARTY].rows
        self.effective_date = effective_date

    @property
    def platforms(self) -> Mapping[str, Mapping[str, ModelPrice]]:
        """The platforms' price lists, by name."""
        return {name: found.rows for name, found in self._lists.items() if name != FIRST_PARTY}

    def lookup(self, model: str, price_list: str = FIRST_PARTY) -> Optional[ModelPrice]:
        """The row of the longest key that prices `model` in `price_list`, or None: an unknown model is
        never guessed, nor priced from another list."""
        found = self._lists.get(price_list)
        return None if found is None else found.lookup(model)

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s rows added, replacing rows with the same key in the same list."""
        platforms = {name: dict(rows) for name, rows in self.platforms.items()}
        for name, rows in other.platforms.items():
            platforms.setdefault(name, {}).update(rows)
        return PriceTable(
            {**self.rows, **other.rows},
            effective_date=other.effective_date or self.effective_date,
            platforms=platforms,
        )

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
        """Build a table from parsed data (`{"effective_date": ..., "models": {prefix: row}, "platforms": ...}`)."""
        table = mapping(data, origin, _TABLE_FIELDS)
        if table.get("currency", "USD") != "USD":
            raise PriceTableError(f"{origin}: currency must be USD, got {table['currency']!r}")
        effective = date_of(table.get("effective_date"), f"{origin}: effective_date")
        source = str(table.get("source", "custom"))
        rows = rows_of(table.get("models", {}), f"{origin}: models", effective, source)
        lists = mapping(table.get("platforms", {}), f"{origin}: platforms", PRICE_LISTS[1:])
        platforms = {
            str(name): rows_of(found, f"{origin}: platforms.{name}", effective, source) for name, found in lists.items()
        }
        return cls(rows, effective_date=effective, platforms=platforms)


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
