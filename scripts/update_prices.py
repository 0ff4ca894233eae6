"""Regenerates `src/anthropic_otel/_read/prices.json` from the `genai-prices` package (MIT, pydantic).

    scripts/update-prices                 # the newest genai-prices, prices in force today
    python scripts/update_prices.py --date 2026-12-01 --check   # exit 1 if the shipped file differs

genai-prices is the source of the rows, never a dependency of the package: it needs Python 3.11+
and takes a quarter of a second to import, so the rows it has are turned into our own table here,
once, and the package prices calls with its own arithmetic (`_read/pricing.py`). What is taken:

- the `anthropic` provider's Claude models: the first-party price list (`models`);
- the `aws` provider's (Bedrock) global and regional rows: `platforms["aws.bedrock/global"]` and
  `platforms["aws.bedrock/regional"]`, each regional row with the inference-profile geographies its
  price is published for (`profiles`; `in-region` is a bare `anthropic.` model id);
- the `google` provider's Claude models (Vertex AI, global endpoint): `platforms["gcp.vertex_ai/global"]`.

Keys are the model ids each row's match rules name (`claude-opus-4-1`, `claude-opus-4`, ...), and
a price is taken only as genai-prices publishes it: a category it has no price for stays `null`
(a call with tokens there gets no cost), a model it lacks gets no row. Rows genai-prices does not
have are kept by hand below (`HAND_KEPT`), with their source. Conditional prices are resolved for
`--date`; `processing: batch` variants are checked to be half the standard prices (our arithmetic
halves every token category of a batch) and `speed: fast` variants become the row's `fast` prices.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "anthropic_otel" / "_read" / "prices.json"

# genai-prices field -> our rate name (USD per million tokens; web search per 1,000 searches).
RATES = {
    "input_mtok": "input",
    "cache_write_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "cache_read_mtok": "cache_read",
    "output_mtok": "output",
}
WEB_SEARCH = "web_searches_kcount"
# Retired models whose ids our prefix keys cannot express (`claude-2.1`) or that the API no longer serves.
SKIPPED = {"claude-2", "claude-v1", "claude-3-sonnet", "claude-3-5-sonnet"}
# Rows genai-prices does not carry, from Anthropic's pricing page (read 2026-11-24).
HAND_KEPT: dict[str, dict[str, Any]] = {
    "claude-mythos-5": {
        "input": 10, "cache_write_5m": 12.5, "cache_write_1h": 20, "cache_read": 1, "output": 50,
        "web_search": 10, "source": "pricing-page", "effective_date": "2026-11-24",
    },
    "claude-mythos-5-1": {
        "input": 10, "cache_write_5m": 12.5, "cache_write_1h": 20, "cache_read": 0.25, "output": 50,
        "web_search": 10, "source": "pricing-page", "effective_date": "2026-11-24",
    },
}  # fmt: skip
_BEDROCK_ID = re.compile(r"^(?:(?P<geo>[a-z-]+)\.)?anthropic\.(?P<model>claude-[a-z0-9-]+?)(?:-v\d+(?::\d+)?)?$")
_PARTIAL_DATE = re.compile(r"-\d{3,7}$")  # `claude-sonnet-4-2025`: a prefix of dated ids, not an id


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def clause_values(match: Any) -> list[tuple[str, str]]:
    """Every literal of a match rule as (kind, value): equals, starts_with, contains, ends_with; regexes skipped."""
    for name in ("equals", "starts_with", "contains", "ends_with"):
        if hasattr(match, name):
            return [(name, getattr(match, name).lower())]
    values: list[tuple[str, str]] = []
    for part in getattr(match, "or_", None) or getattr(match, "and_", None) or ():
        values.extend(clause_values(part))
    return values


def _covers(key: str, other: str) -> bool:
    """Whether our key `key` prices the id `other` (the package's rule: a suffix after `-`, `@` or `:`
    that does not start with a one- or two-digit version number)."""
    if not other.startswith(key) or other == key or other[len(key)] not in "-@:":
        return False
    return re.match(r"-\d{1,2}(?!\d)", other[len(key) :]) is None


def distinct(keys: set[str]) -> list[str]:
    """`keys` without those another of them already prices (`claude-opus-5-latest` beside `claude-opus-5`)."""
    return sorted(key for key in keys if not any(_covers(other, key) for other in keys))


def first_party_keys(values: list[tuple[str, str]]) -> list[str]:
    """The model ids among match literals: hyphenated, not a dotted alias, not a partial date."""
    keys = {value.rstrip("@") for _, value in values}
    return distinct(
        {key for key in keys if key.startswith("claude-") and "." not in key and not _PARTIAL_DATE.search(key)}
    )


def bedrock_keys(values: list[tuple[str, str]]) -> tuple[list[str], list[str] | None]:
    """A Bedrock row's model keys and the profile geographies its literals name (None: any).

    `contains claude-3-haiku-20240307` matches the id behind every prefix: any geography. The bare
    `claude-...` literals beside prefixed ones are for ids whose `anthropic.` was cut off: ignored.
    """
    keys, geos, any_geo = set(), set(), False
    for kind, value in values:
        found = _BEDROCK_ID.match(value)
        if found is None:
            if kind == "contains" and value.startswith("claude-") and not _PARTIAL_DATE.search(value):
                any_geo = True
                keys.add(re.sub(r"-v\d+(?::\d+)?$", "", value))
            continue
        keys.add(found["model"])
        geo = found["geo"]
        geos.add("in-region" if geo is None else geo)
    return distinct(keys), None if any_geo else sorted(geos - {"global"})


def resolve(model: Any, when: datetime) -> Any:
    """The standard prices of `model` in force at `when`."""
    return model.get_prices(when)


def row_of(prices: Any, model: Any, when: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {}
    tiers: dict[int, dict[str, Any]] = {}
    for source_name, name in RATES.items():
        value = getattr(prices, source_name, None)
        if value is None:
            row[name] = None
        elif hasattr(value, "tiers"):
            row[name] = number(value.base)
            for tier in value.tiers:
                tiers.setdefault(tier.start, {"threshold": tier.start})[name] = number(tier.price)
        else:
            row[name] = number(value)
    searches = getattr(prices, WEB_SEARCH, None)
    if searches is not None:
        row["web_search"] = number(searches)
    if tiers:
        if any(len(tier) != len(RATES) + 1 for tier in tiers.values()):
            raise SystemExit(f"{model.id}: a tier that does not cover every category; cannot express it")
        row["tiers"] = [tiers[start] for start in sorted(tiers)]
    for variant in model.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(when):
            continue
        if variant.when == {"speed": "fast"}:
            row["fast"] = {name: number(getattr(variant.prices, key)) for key, name in RATES.items()}
        elif variant.when == {"processing": "batch"}:
            check_batch(model.id, prices, variant.prices)
    started = [
        price.constraint.start_date
        for price in (model.prices if isinstance(model.prices, list) else ())
        if price.constraint is not None and price.constraint.active(when)
    ]
    if started:
        row["effective_date"] = max(started).isoformat()
    return row


def check_batch(model_id: str, standard: Any, batch: Any) -> None:
    """Our arithmetic halves every token category of a batch; a batch price that is not half stops the update."""
    for key in RATES:
        full, half = getattr(standard, key, None), getattr(batch, key, None)
        if half is None or full is None:
            continue
        full_base = full.base if hasattr(full, "base") else full
        half_base = half.base if hasattr(half, "base") else half
        if half_base * 2 != full_base:
            raise SystemExit(f"{model_id}: batch {key} is {half_base}, not half of {full_base}")


def build(when: datetime) -> dict[str, Any]:
    import genai_prices  # noqa: PLC0415 - only where it is installed (Python 3.11+)
    from genai_prices.data import providers  # noqa: PLC0415

    by_id = {provider.id: provider for provider in providers}
    models: dict[str, dict[str, Any]] = {}
    for model in by_id["anthropic"].models:
        if model.id in SKIPPED:
            continue
        row = row_of(resolve(model, when), model, when)
        for key in first_party_keys(clause_values(model.match)):
            models[key] = row
    for key, row in HAND_KEPT.items():
        if key in models:
            raise SystemExit(f"{key}: genai-prices now has it; drop it from HAND_KEPT")
        models[key] = row
    platforms: dict[str, dict[str, dict[str, Any]]] = {
        "aws.bedrock/global": {},
        "aws.bedrock/regional": {},
        "gcp.vertex_ai/global": {},
    }
    for model in by_id["aws"].models:
        if "anthropic" not in model.id:
            continue
        keys, geos = bedrock_keys(clause_values(model.match))
        scope = "global" if model.id.startswith("global.") else "regional"
        row = row_of(resolve(model, when), model, when)
        if scope == "regional" and geos is not None:
            row["profiles"] = geos
        for key in keys:
            platforms[f"aws.bedrock/{scope}"][key] = row
    for model in by_id["google"].models:
        if "claude" not in model.id:
            continue
        row = row_of(resolve(model, when), model, when)
        for key in first_party_keys(clause_values(model.match)):
            platforms["gcp.vertex_ai/global"][key] = row
    return {
        "effective_date": when.date().isoformat(),
        "currency": "USD",
        "unit": "USD per million tokens; web_search per 1,000 searches",
        "source": f"genai-prices {genai_prices.__version__}",
        "note": (
            "Generated by scripts/update-prices from the genai-prices package (github.com/pydantic/genai-prices, "
            "MIT). Keys are model-id prefixes; the longest matching key wins. null: no published price for that "
            "category. Rows with their own source are kept by hand in scripts/update_prices.py."
        ),
        "models": dict(sorted(models.items())),
        "platforms": {name: dict(sorted(rows.items())) for name, rows in platforms.items()},
    }


def render(table: dict[str, Any]) -> str:
    """The table as JSON with one row per line, so that a price change is a one-line diff."""
    lines = ["{"]
    head = [key for key in table if key not in ("models", "platforms")]
    lines.extend(f"  {json.dumps(key)}: {json.dumps(table[key])}," for key in head)

    def rows(indent: str, found: dict[str, Any]) -> list[str]:
        items = [f"{indent}{json.dumps(key)}: {json.dumps(row, separators=(', ', ': '))}" for key, row in found.items()]
        return [item + ("," if index < len(items) - 1 else "") for index, item in enumerate(items)]

    lines.append('  "models": {')
    lines.extend(rows("    ", table["models"]))
    lines.append("  },")
    lines.append('  "platforms": {')
    names = list(table["platforms"])
    for index, name in enumerate(names):
        lines.append(f"    {json.dumps(name)}: {{")
        lines.extend(rows("      ", table["platforms"][name]))
        lines.append("    }" + ("," if index < len(names) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=None, help="prices in force on this day")
    parser.add_argument("--check", action="store_true", help="exit 1 if prices.json is not what would be written")
    args = parser.parse_args(argv)
    day = args.date or datetime.now(timezone.utc).date()
    when = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    text = render(build(when))
    if args.check:
        current = TARGET.read_text(encoding="utf-8")
        if current != text:
            print(f"{TARGET} differs from genai-prices as of {day}: run scripts/update-prices", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} (prices in force on {day})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
