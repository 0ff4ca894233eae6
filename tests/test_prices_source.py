"""The shipped price table against its source, the `genai-prices` package (installed with the dev extra).

Two checks: the file is exactly what `scripts/update-prices` makes of the pinned genai-prices (so
nobody edits a generated row by hand), and every row prices a set of usages exactly as
genai-prices' own `calc_price` does, through genai-prices' own model matching (so our reading of
its rows, keys and rules is right: tiers, cache TTLs, batch, fast mode, web search, platforms).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import pytest

from anthropic_otel._read.price_table import FIRST_PARTY, PriceTable
from anthropic_otel._read.pricing import cost_of

pytestmark = pytest.mark.only_if(
    importlib.util.find_spec("genai_prices") is not None, reason="genai-prices needs Python 3.11+"
)

ROOT = Path(__file__).resolve().parent.parent
TABLE = PriceTable.load_default()
HAND_KEPT = {"claude-mythos-5", "claude-mythos-5-1"}  # genai-prices lacks them: the pricing page's


def update_prices() -> Any:
    spec = importlib.util.spec_from_file_location("update_prices", ROOT / "scripts" / "update_prices.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("update_prices", module)
    spec.loader.exec_module(module)
    return module


def when() -> datetime:
    day = TABLE.effective_date
    assert day is not None
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def test_the_shipped_file_is_what_the_script_makes_of_the_pinned_version() -> None:
    import genai_prices

    assert TABLE.rows["claude-sonnet-4-6"].source == f"genai-prices {genai_prices.__version__}", (
        "the dev extra pins another genai-prices than the table was made from: run scripts/update-prices"
    )
    assert update_prices().main(["--check", "--date", str(TABLE.effective_date)]) == 0


def refs(price_list: str, key: str, profiles: Optional[frozenset[str]]) -> list[tuple[str, str, Optional[str]]]:
    """(genai-prices provider, model ref, Bedrock profile) to look `key` of `price_list` up with."""
    if price_list == FIRST_PARTY:
        return [("anthropic", key, None)]
    if price_list == "gcp.vertex_ai/global":
        return [("google", key, None)]
    if price_list == "aws.bedrock/global":
        return [("aws", f"global.anthropic.{key}-v1:0", None)]
    geos = sorted(profiles) if profiles is not None else ["us", "in-region"]
    return [
        ("aws", f"anthropic.{key}-v1:0" if geo == "in-region" else f"{geo}.anthropic.{key}-v1:0", geo) for geo in geos
    ]


ROWS = [
    (price_list, key)
    for price_list, rows in (("anthropic", TABLE.rows), *TABLE.platforms.items())
    for key in rows
    if not (price_list == FIRST_PARTY and key in HAND_KEPT)
]
# uncached, 5m writes, 1h writes, reads, output, web searches
USAGES = [
    (1000, 0, 0, 0, 300, 0),
    (1000, 500, 0, 2000, 300, 0),
    (1000, 500, 100, 2000, 300, 0),
    (250_000, 20_000, 0, 40_000, 900, 0),  # above the 100k and 200k prompt tiers
]


def ours(usage: tuple[int, ...], **kwargs: Any) -> dict[str, Any]:
    uncached, write_5m, write_1h, read, output, searches = usage
    return {
        "input_tokens": uncached,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
        "output_tokens": output,
        "server_tool_use": {"web_search_requests": searches},
        **kwargs,
    }


def theirs(usage: tuple[int, ...]) -> Any:
    from genai_prices import Usage

    uncached, write_5m, write_1h, read, output, searches = usage
    return Usage(
        input_tokens=uncached + write_5m + write_1h + read,
        cache_write_tokens=write_5m + write_1h,
        cache_write_1h_tokens=write_1h,
        cache_read_tokens=read,
        output_tokens=output,
        web_searches=searches,
    )


@pytest.mark.parametrize(("price_list", "key"), ROWS, ids=[f"{name}:{key}" for name, key in ROWS])
def test_every_row_prices_as_genai_prices_does(price_list: str, key: str) -> None:
    from genai_prices import calc_price

    row = TABLE.lookup(key, price_list)
    assert row is not None
    rates = (row.input, row.cache_write_5m, row.cache_write_1h, row.cache_read, row.output)
    usages = [u for u in USAGES if all(rate is not None for rate, n in zip(rates, u) if n)]  # null: no cost at all
    if row.web_search is not None:
        usages.append((1000, 0, 0, 0, 300, 3))
    variants: list[tuple[dict[str, str], dict[str, bool]]] = [({}, {})]
    if row.fast is not None:
        variants.append(({"speed": "fast"}, {"fast": True}))
    for provider, ref, profile in refs(price_list, key, row.profiles):
        for context, flags in variants:
            for usage in usages:
                expected = calc_price(
                    theirs(usage),
                    ref,
                    provider_id=provider,
                    genai_request_timestamp=when(),
                    price_context=context or None,
                )
                cost = cost_of(ours(usage), key, TABLE, price_list=price_list, profile=profile, **flags)
                assert cost is not None, (ref, usage)
                assert math.isclose(cost.total, float(expected.total_price), rel_tol=1e-9), (ref, context, usage)


def test_batch_prices_are_half_where_genai_prices_has_them() -> None:
    """Our arithmetic halves a batch's tokens; genai-prices' batch variants agree, where it has them."""
    from genai_prices import calc_price

    usage = (1000, 500, 100, 2000, 300, 0)
    checked = 0
    for key in sorted(set(TABLE.rows) - HAND_KEPT):
        expected = calc_price(
            theirs(usage),
            key,
            provider_id="anthropic",
            genai_request_timestamp=when(),
            price_context={"processing": "batch"},
        )
        standard = calc_price(theirs(usage), key, provider_id="anthropic", genai_request_timestamp=when())
        if expected.total_price == standard.total_price:
            continue  # no batch variant there: genai-prices gives the standard price
        cost = cost_of(ours(usage), key, TABLE, batch=True)
        assert cost is not None
        assert math.isclose(cost.total, float(expected.total_price), rel_tol=1e-9), key
        checked += 1
    assert checked >= 20


def test_what_genai_prices_lacks_is_kept_by_hand_and_marked() -> None:
    from genai_prices import calc_price

    for key in sorted(HAND_KEPT):
        assert TABLE.rows[key].source == "pricing-page"
        with pytest.raises(LookupError):
            calc_price(theirs(USAGES[0]), key, provider_id="anthropic")
