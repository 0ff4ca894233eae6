"""Cost arithmetic: the published examples exactly, and the rules as properties (hypothesis)."""

from __future__ import annotations

import ast
import json
import logging
import math
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from anthropic.types import Usage
from hypothesis import given, settings
from hypothesis import strategies as st

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._read import attributes, pricing
from anthropic_otel._read.price_rows import ModelPrice, PriceTableError, Rates
from anthropic_otel._read.price_table import PriceTable
from anthropic_otel._read.pricing import COST_CATEGORIES, Cost, UnpricedModels, cost_of

TABLE = PriceTable.load_default()
RATE_NAMES = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
M = 1e-6  # USD per token for a price of 1 USD per million tokens


def assert_usd(actual: float, expected: float) -> None:
    assert math.isclose(actual, expected, rel_tol=0, abs_tol=1e-12), (actual, expected)


def usage(
    input: int = 0, read: int = 0, write: int = 0, output: int = 0, split: tuple[int, int] | None = None, **extra: Any
) -> dict[str, Any]:
    """A usage dict as the API sends it; `split` is (5m, 1h) writes."""
    data: dict[str, Any] = {
        "input_tokens": input,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write,
        "output_tokens": output,
        **extra,
    }
    if split is not None:
        data["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    return data


def priced(value: object, model: str, **kwargs: bool) -> Cost:
    cost = cost_of(value, model, TABLE, **kwargs)
    assert cost is not None
    return cost


# --- the published examples ------------------------------------------------------------------

ISSUE_EXAMPLE = 1000 * 3e-6 + 2000 * 0.30e-6 + 500 * 3.75e-6 + 300 * 15e-6


def test_issue_example_sonnet_4_6() -> None:
    cost = priced(usage(input=1000, read=2000, write=500, output=300), "claude-sonnet-4-6")
    assert_usd(ISSUE_EXAMPLE, 0.009975)
    assert_usd(cost.total, ISSUE_EXAMPLE)
    assert_usd(cost.input, 0.003)
    assert_usd(cost.cache_read, 0.0006)
    assert_usd(cost.cache_write, 0.001875)
    assert_usd(cost.output, 0.0045)
    assert not cost.batch


def test_issue_example_from_the_sdk_usage_object() -> None:
    sdk_usage = Usage(
        input_tokens=1000,
        cache_read_input_tokens=2000,
        cache_creation_input_tokens=500,
        # A dict: SDKs before CacheCreation existed keep it as an extra field, newer ones validate it.
        cache_creation={"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 0},
        output_tokens=300,
    )
    assert_usd(priced(sdk_usage, "claude-sonnet-4-6-20260101").total, ISSUE_EXAMPLE)


def test_issue_example_as_a_batch_costs_exactly_half() -> None:
    as_batch = priced(usage(input=1000, read=2000, write=500, output=300, service_tier="batch"), "claude-sonnet-4-6")
    assert as_batch.batch
    assert as_batch.total == priced(usage(1000, 2000, 500, 300), "claude-sonnet-4-6").total / 2
    assert_usd(as_batch.total, ISSUE_EXAMPLE / 2)
    assert priced(usage(1000, 2000, 500, 300), "claude-sonnet-4-6", batch=True) == as_batch


def test_cache_saving_is_what_the_reads_would_have_cost_uncached() -> None:
    cost = priced(usage(read=2000), "claude-sonnet-4-6")
    assert_usd(cost.cache_saving, 2000 * 3e-6 - 2000 * 0.30e-6)
    assert_usd(cost.total, 2000 * 0.30e-6)  # the saving is not part of the bill
    assert priced(usage(input=5000, write=100, output=10), "claude-sonnet-4-6").cache_saving == 0


def test_one_hour_and_five_minute_writes() -> None:
    split = priced(usage(write=500, split=(100, 400)), "claude-sonnet-4-6")
    assert_usd(split.cache_write, 100 * 3.75e-6 + 400 * 6e-6)
    no_split = priced(usage(write=500), "claude-sonnet-4-6")  # without the split: 5-minute writes
    assert_usd(no_split.cache_write, 500 * 3.75e-6)
    sdk = Usage(
        input_tokens=0,
        output_tokens=0,
        cache_creation_input_tokens=500,
        cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 500},
    )
    assert_usd(priced(sdk, "claude-haiku-4-5").cache_write, 500 * 2e-6)


def test_by_category_matches_the_metric_attribute_values() -> None:
    cost = priced(usage(1, 2, 3, 4), "claude-opus-4-8")
    categories = ("input", "cache_write", "cache_read", "output", "web_search")
    assert tuple(cost.by_category()) == COST_CATEGORIES == categories
    assert_usd(sum(cost.by_category().values()), cost.total)


# --- the rules -------------------------------------------------------------------------------


def test_unknown_model_has_no_cost() -> None:
    assert cost_of(usage(input=10), "gpt-4o", TABLE) is None
    assert cost_of(usage(input=10), None, TABLE) is None
    assert cost_of(usage(input=10), "claude-mythos-preview", TABLE) is None
    assert cost_of(usage(input=10), "claude-fable-5-3", TABLE) is None  # not Fable 5's (or 5.2's) price


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("claude-sonnet-4-6", "claude-sonnet-4-6"),
        ("claude-sonnet-4-6-20260101", "claude-sonnet-4-6"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4-0"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-8", "claude-opus-4-8"),
        ("claude-sonnet-5-5", "claude-sonnet-5-5"),
        ("claude-sonnet-5", "claude-sonnet-5"),
        ("claude-fable-5-1", "claude-fable-5-1"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-3-haiku-20240307", "claude-3-haiku"),
        ("claude-3-opus-20240229", "claude-3-opus"),
        ("Claude-Haiku-4-5-20251001", "claude-haiku-4-5"),
    ],
)
def test_longest_prefix_wins(model: str, key: str) -> None:
    assert TABLE.lookup(model) is TABLE.rows[key]


@pytest.mark.parametrize("model", ["claude-opus-4-10", "claude-opus-4-9", "claude-sonnet-4-7", "claude-sonnet-4-60"])
def test_a_key_does_not_price_a_newer_version_of_itself(model: str) -> None:
    assert TABLE.lookup(model) is None


def test_a_wildcard_key_is_a_plain_prefix_and_loses_to_a_longer_key() -> None:
    wild = ModelPrice(1, 1, 1, 1, 1)
    table = TABLE.merged(PriceTable({"claude-sonnet-*": wild}))
    assert table.lookup("claude-sonnet-7") is wild
    assert table.lookup("claude-sonnet-4-6") is TABLE.rows["claude-sonnet-4-6"]


def test_haiku_5_5_prompt_tier_switches_above_100k_on_every_token() -> None:
    at_limit = priced(usage(input=40_000, read=50_000, write=10_000, output=1000), "claude-haiku-5-5")
    assert_usd(at_limit.total, 40_000 * 0.10 * M + 50_000 * 0.01 * M + 10_000 * 0.125 * M + 1000 * 0.50 * M)
    above = priced(usage(input=40_001, read=50_000, write=10_000, output=1000), "claude-haiku-5-5")
    assert_usd(above.total, 40_001 * 0.50 * M + 50_000 * 0.05 * M + 10_000 * 0.625 * M + 1000 * 2.50 * M)
    one_hour = priced(usage(input=100_000, write=1, split=(0, 1)), "claude-haiku-5-5")
    assert_usd(one_hour.cache_write, 1.00 * M)


def test_long_context_surcharge_on_sonnet_4_5_only_above_200k() -> None:
    at_limit = priced(usage(input=150_000, read=50_000, output=1000), "claude-sonnet-4-5")
    assert_usd(at_limit.total, 150_000 * 3 * M + 50_000 * 0.30 * M + 1000 * 15 * M)
    above = priced(usage(input=150_001, read=50_000, output=1000), "claude-sonnet-4-5")
    assert_usd(above.input, 150_001 * 6 * M)
    assert_usd(above.cache_read, 50_000 * 0.60 * M)
    assert_usd(above.output, 1000 * 22.5 * M)
    # Sonnet 4's 1M-context beta is retired: genai-prices publishes no tier for it, so none applies.
    assert_usd(priced(usage(input=300_000, output=10), "claude-sonnet-4-20250514").output, 10 * 15 * M)
    no_surcharge = priced(usage(input=300_000, output=1000), "claude-sonnet-4-6")
    assert_usd(no_surcharge.total, 300_000 * 3 * M + 1000 * 15 * M)
    as_batch = priced(usage(input=300_000, output=1000), "claude-sonnet-4-5", batch=True)
    assert_usd(as_batch.total, (300_000 * 6 * M + 1000 * 22.5 * M) / 2)


def test_fast_mode_on_opus_4_8() -> None:
    fast = priced(usage(input=1_000_000, output=1_000_000), "claude-opus-4-8", fast=True)
    assert_usd(fast.input, 10)
    assert_usd(fast.output, 50)
    assert priced(usage(input=1_000_000, output=1_000_000, speed="fast"), "claude-opus-4-8") == fast
    standard = priced(usage(input=1_000_000, output=1_000_000, speed="standard"), "claude-opus-4-8")
    assert (standard.input, standard.output) == (5, 25)
    assert cost_of(usage(input=1), "claude-sonnet-4-6", TABLE, fast=True) is None  # no fast price: no guess


@pytest.mark.parametrize(
    "bad",
    [-5, None, "12", 3.0, True, [1], float("nan")],
    ids=["negative", "none", "str", "float", "bool", "list", "nan"],
)
def test_odd_counts_are_zero(bad: object) -> None:
    cost = priced(
        {
            "input_tokens": bad,
            "cache_read_input_tokens": bad,
            "cache_creation_input_tokens": bad,
            "cache_creation": {"ephemeral_5m_input_tokens": bad, "ephemeral_1h_input_tokens": bad},
            "output_tokens": bad,
        },
        "claude-sonnet-4-6",
    )
    assert cost == Cost(0, 0, 0, 0, 0)
    assert priced(None, "claude-sonnet-4-6").total == 0
    assert priced(object(), "claude-sonnet-4-6").total == 0


# --- the shipped table -----------------------------------------------------------------------

PUBLISHED = {  # pricing.md: input, 5m write, 1h write, read, output
    "claude-fable-5-1": (10, 12.50, 20, 0.25, 50),
    "claude-mythos-5": (10, 12.50, 20, 1.00, 50),
    "claude-opus-5": (5, 6.25, 10, 0.50, 25),
    "claude-opus-4-5": (5, 6.25, 10, 0.50, 25),
    "claude-opus-4-1": (15, 18.75, 30, 1.50, 75),
    "claude-sonnet-4-6": (3, 3.75, 6, 0.30, 15),
    "claude-3-7-sonnet": (3, 3.75, 6, 0.30, 15),
    "claude-haiku-4-5": (1, 1.25, 2, 0.10, 5),
    "claude-3-5-haiku": (0.80, 1, 1.60, 0.08, 4),
    "claude-3-opus": (15, 18.75, 30, 1.50, 75),
    "claude-3-haiku": (0.25, 0.30, 0.50, 0.03, 1.25),
    "claude-sonnet-5-5": (2, 2.50, 4, 0.10, 10),
    "claude-haiku-5-5": (0.10, 0.125, 0.20, 0.01, 0.50),
    "claude-fable-5-2": (8, 10, 16, 0.20, 40),  # genai-prices (not on the 2026-11-24 page yet)
    "claude-mythos-5-2": (8, 10, 16, 0.20, 40),
    "claude-opus-5-5": (4, 5, 8, 0.20, 20),  # cache hits at 0.05x input, as on Sonnet 5.5
}


@pytest.mark.parametrize(("key", "prices"), PUBLISHED.items(), ids=list(PUBLISHED))
def test_shipped_prices_match_the_published_ones(key: str, prices: tuple[float, ...]) -> None:
    row = TABLE.rows[key]
    assert (row.input, row.cache_write_5m, row.cache_write_1h, row.cache_read, row.output) == prices


def test_shipped_table_dates_and_sources() -> None:
    """Generated from genai-prices (scripts/update-prices); the rows it lacks are kept by hand and say so."""
    assert str(TABLE.effective_date) == "2026-12-01"
    rows = [*TABLE.rows.values(), *(row for rows in TABLE.platforms.values() for row in rows.values())]
    assert all(row.effective_date is not None for row in rows)
    assert str(TABLE.rows["claude-sonnet-4-6"].effective_date) == "2026-03-13"  # when its long-context tier ended
    by_hand = {key for key, row in TABLE.rows.items() if row.source == "pricing-page"}
    assert by_hand == {"claude-mythos-5", "claude-mythos-5-1"}
    assert {row.source for row in rows} == {"genai-prices 0.2.3", "pricing-page"}
    assert sorted(TABLE.platforms) == ["aws.bedrock/global", "aws.bedrock/regional", "gcp.vertex_ai/global"]


def test_the_module_is_pure() -> None:
    tree = ast.parse(Path(pricing.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    # Only the pure field reader of `attributes` (no OpenTelemetry, no state) may come from the package.
    assert not any(name.startswith("opentelemetry") for name in imported)
    ours = {name for name in imported if name.startswith("anthropic_otel")}
    assert ours == {
        "anthropic_otel._read.attributes",
        "anthropic_otel._read.price_rows",
        "anthropic_otel._read.price_table",
    }
    attributes_tree = ast.parse(Path(attributes.__file__).read_text(encoding="utf-8"))
    assert not any(
        (node.module or "").startswith("opentelemetry")
        for node in ast.walk(attributes_tree)
        if isinstance(node, ast.ImportFrom)
    )


# --- user price files ------------------------------------------------------------------------

JSON_FILE: dict[str, Any] = {
    "effective_date": "2026-12-01",
    "models": {
        "claude-sonnet-4-6": {"input": 2.5, "cache_write_5m": 3, "cache_write_1h": 5, "cache_read": 0.25, "output": 12},
        "acme-claude": {"input": 1, "cache_write_5m": 1, "cache_write_1h": 1, "cache_read": 1, "output": 1},
    },
}
TOML_FILE = """
effective_date = 2026-12-01

[models.claude-sonnet-4-6]
input = 2.5
cache_write_5m = 3
cache_write_1h = 5
cache_read = 0.25
output = 12

[models.acme-claude]
input = 1
cache_write_5m = 1
cache_write_1h = 1
cache_read = 1
output = 1
"""


@pytest.fixture(params=["json", "toml"])
def price_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"prices.{request.param}"
    path.write_text(json.dumps(JSON_FILE) if request.param == "json" else TOML_FILE, encoding="utf-8")
    return path


def check_overridden(table: PriceTable) -> None:
    assert_usd(priced_by(table, usage(input=1000), "claude-sonnet-4-6-20260101").total, 1000 * 2.5 * M)
    assert_usd(priced_by(table, usage(output=1000), "acme-claude").total, 1000 * M)
    assert priced_by(table, usage(input=1000), "claude-haiku-4-5").total == 1000 * 1 * M  # untouched
    assert str(table.effective_date) == "2026-12-01"
    assert table.rows["acme-claude"].source == "custom"


def priced_by(table: PriceTable, value: object, model: str) -> Cost:
    cost = cost_of(value, model, table)
    assert cost is not None
    return cost


def test_a_price_file_overrides_and_adds_a_model(price_file: Path) -> None:
    check_overridden(TABLE.merged(PriceTable.from_file(price_file)))
    assert TABLE.rows["claude-sonnet-4-6"].input == 3  # merging returns a new table


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.json", None, "cannot read"),
        ("broken.json", "{not json", "cannot read"),
        ("prices.yaml", "models: {}", "use .json or .toml"),
        ("typo.json", '{"models": {"x": {"input": 1, "ouput": 2}}}', "unknown keys ['ouput']"),
        ("short.json", '{"models": {"x": {"input": 1}}}', "missing prices"),
        ("negative.json", json.dumps({"models": {"x": {**JSON_FILE["models"]["acme-claude"], "input": -1}}}), "input"),
        ("date.json", '{"effective_date": "soon", "models": {}}', "effective_date"),
    ],
)
def test_a_bad_price_file_is_logged_and_ignored(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    content: str | None,
    problem: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PriceTableError, match=problem.replace("[", r"\[")):
        PriceTable.from_file(path)
    monkeypatch.setenv("ANTHROPIC_OTEL_PRICES", str(path))
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        instrumentor = AnthropicInstrumentor()
        instrumentor.instrument()
        instrumentor.uninstrument()
    assert str(path) in caplog.text
    assert problem in caplog.text


def test_toml_without_a_parser_names_the_fix(price_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.9 / 3.10 without tomli
    monkeypatch.setitem(sys.modules, "tomli", None)
    if price_file.suffix == ".toml":
        with pytest.raises(PriceTableError, match="tomli"):
            PriceTable.from_file(price_file)
    else:
        check_overridden(TABLE.merged(PriceTable.from_file(price_file)))


def test_prices_in_code() -> None:
    table = TABLE.merged(PriceTable.from_mapping({"models": {"my-model": dict.fromkeys(RATE_NAMES, 2)}}))
    assert_usd(priced_by(table, usage(input=10, output=10), "my-model").total, 40 * M)
    with pytest.raises(PriceTableError, match="currency"):
        PriceTable.from_mapping({"currency": "EUR", "models": {}})


def test_unpriced_models_warn_once_per_model_and_stay_bounded() -> None:
    seen = UnpricedModels(limit=3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(seen.first_time("gpt-4o"))) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert seen.first_time("a")
    assert seen.first_time("b")
    assert not seen.first_time("c")  # over the limit: no more warnings, no more memory


# --- properties ------------------------------------------------------------------------------

COUNT = st.integers(min_value=0, max_value=10_000_000)
JUNK = st.one_of(st.integers(min_value=-(10**12), max_value=10**12), st.none(), st.floats(), st.text(), st.booleans())
MODELS = st.sampled_from(sorted(TABLE.rows))
FLAT_MODELS = st.sampled_from(sorted(k for k, row in TABLE.rows.items() if not row.tiers and not row.long_context))


@st.composite
def usages(draw: st.DrawFn, count: st.SearchStrategy[Any] = COUNT) -> dict[str, Any]:
    split = draw(st.none() | st.tuples(count, count))
    return usage(draw(count), draw(count), draw(count), draw(count), split=split)


@given(usages(JUNK), st.one_of(MODELS, st.text()), st.booleans(), st.booleans())
def test_cost_is_never_negative(value: dict[str, Any], model: str, batch: bool, fast: bool) -> None:
    cost = cost_of(value, model, TABLE, batch=batch, fast=fast)
    if cost is not None:
        assert min(*cost.by_category().values(), cost.cache_saving) >= 0
        assert math.isfinite(cost.total)


@given(usages(), FLAT_MODELS, st.booleans())
def test_cost_is_linear_in_tokens(value: dict[str, Any], model: str, batch: bool) -> None:
    doubled = {k: ({n: 2 * c for n, c in v.items()} if isinstance(v, dict) else 2 * v) for k, v in value.items()}
    once, twice = priced(value, model, batch=batch), priced(doubled, model, batch=batch)
    for category in (*COST_CATEGORIES, "cache_saving"):
        assert math.isclose(getattr(twice, category), 2 * getattr(once, category), rel_tol=1e-12, abs_tol=0)


@given(usages(), MODELS, st.booleans())
def test_batch_is_exactly_half(value: dict[str, Any], model: str, fast: bool) -> None:
    standard = cost_of(value, model, TABLE, fast=fast)
    as_batch = cost_of(value, model, TABLE, fast=fast, batch=True)
    if standard is None or as_batch is None:
        assert standard is None
        assert as_batch is None
        return
    for category in (*COST_CATEGORIES, "cache_saving"):
        assert getattr(as_batch, category) == getattr(standard, category) / 2
    assert as_batch.total == standard.total / 2
    assert cost_of({**value, "service_tier": "batch"}, model, TABLE, fast=fast) == as_batch


@given(usages())
def test_each_input_token_is_priced_in_exactly_one_category(value: dict[str, Any]) -> None:
    """With every input price at 1 USD per million, the input side costs one micro-dollar per prompt token."""
    table = PriceTable({"m": ModelPrice(1, 1, 1, 1, 0)})
    cost = priced_by(table, value, "m")
    writes = max(value["cache_creation_input_tokens"], sum((value.get("cache_creation") or {}).values()))
    prompt = value["input_tokens"] + value["cache_read_input_tokens"] + writes
    assert math.isclose(cost.input + cost.cache_write + cost.cache_read, prompt * M, rel_tol=1e-12)


@given(usages(), st.text())
def test_unknown_model_gives_none(value: dict[str, Any], suffix: str) -> None:
    assert cost_of(value, f"unknown-{suffix}", TABLE) is None


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=300_000), st.integers(min_value=0, max_value=10_000))
def test_tier_prices_apply_to_every_token_or_none(prompt: int, output: int) -> None:
    cost = priced(usage(input=prompt, output=output), "claude-haiku-5-5")
    rates = Rates(0.50, 0.625, 1.00, 0.05, 2.50) if prompt > 100_000 else TABLE.rows["claude-haiku-5-5"]
    assert_usd(cost.total, prompt * rates.input * M + output * rates.output * M)
