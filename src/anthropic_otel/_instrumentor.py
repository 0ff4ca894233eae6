"""`AnthropicInstrumentor`: patches the SDK from `hooks.WRAP_TARGETS`, and undoes exactly that.

`BaseInstrumentor` gives the singleton, the double-instrument guard, the dependency check and
`OTEL_PYTHON_DISABLED_INSTRUMENTATIONS` (under our entry-point name `anthropic_otel`).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Collection, Iterable
from typing import Any

import wrapt
from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from anthropic_otel import _patches as hooks
from anthropic_otel._call import collected
from anthropic_otel._config import PRICES, Settings
from anthropic_otel._metrics import Instruments
from anthropic_otel._package import _instruments
from anthropic_otel._patches import WrapTarget
from anthropic_otel._read.price_rows import PriceTableError
from anthropic_otel._read.price_table import PriceTable
from anthropic_otel._telemetry import Telemetry
from anthropic_otel._version import __version__

__all__ = ["AnthropicInstrumentor"]

log = logging.getLogger(__name__)

# What every wrapt wrapper is an instance of: `BaseObjectProxy` from wrapt 2 on (whose
# `ObjectProxy` is a subclass that function wrappers do not derive from), `ObjectProxy` before.
WRAPPER_TYPE: type = getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy)

SCOPE = "anthropic_otel"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# Resource methods that other instrumentations of this SDK patch; a wrapper found there at
# instrument time means the user will see their spans beside ours.
_PEER_TARGETS = (
    ("anthropic.resources.messages", "Messages", "create"),
    ("anthropic.resources.messages", "AsyncMessages", "create"),
    ("anthropic.resources.messages", "Messages", "stream"),
    ("anthropic.resources.beta.messages", "Messages", "create"),
)


class AnthropicInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments the Anthropic SDK: one CLIENT span per API call (or the SDK's own, enriched),
    plus token, duration, cache and retry metrics.

    `instrument(tracer_provider=None, meter_provider=None, logger_provider=None, prices=None,
    content_hook=None)` uses the global providers for those not given; `prices` extends or
    overrides the built-in price table (a `PriceTable`, a mapping like `prices.json`, or a
    `.json`/`.toml` path); `content_hook(content) -> content | None` redacts captured content
    before it is recorded (see `content_capture`; it wins over `ANTHROPIC_OTEL_CONTENT_HOOK`).
    `uninstrument()` restores every original method.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = build_telemetry(SCOPE, kwargs, content_hook=kwargs.get("content_hook"))
        hooks.set_telemetry(telemetry)
        _warn_about_peers()
        wrap_targets(hooks.WRAP_TARGETS, log, "SDK")

    def _uninstrument(self, **kwargs: Any) -> None:
        hooks.set_telemetry(None)
        unwrap_targets(hooks.WRAP_TARGETS, "SDK")


def build_telemetry(scope: str, kwargs: dict[str, Any], content_hook: Any = None) -> Telemetry:
    """The tracer, instruments, logger, settings and prices of one `instrument(**kwargs)` under `scope`.

    Shared with the OpenAI compatibility instrumentor so that both read the same keyword
    arguments and environment the same way.
    """
    tracer = trace.get_tracer(scope, __version__, tracer_provider=kwargs.get("tracer_provider"), schema_url=SCHEMA_URL)
    meter = metrics.get_meter(scope, __version__, meter_provider=kwargs.get("meter_provider"), schema_url=SCHEMA_URL)
    logger = get_logger(scope, __version__, logger_provider=kwargs.get("logger_provider"), schema_url=SCHEMA_URL)
    settings = Settings.from_environment()
    prices = _price_table(settings, kwargs.get("prices"))
    return Telemetry(
        tracer,
        Instruments.of(meter),
        logger,
        settings,
        prices,
        content_hook=content_hook,
        tracer_provider=kwargs.get("tracer_provider"),
    )


def wrap_targets(targets: Iterable[WrapTarget], logger: logging.Logger, sdk: str) -> None:
    """Patch every target; a missing one that is not optional is a warning (on this `sdk`), never an error.
    While any SDK is patched, collections are watched for the finalizers of its results (`collected`)."""
    collected.install(sdk)
    for target in targets:
        try:
            wrap_function_wrapper(target.module, target.attribute, target.hook)
        except (AttributeError, ImportError):
            if not target.optional:
                logger.warning("anthropic-otel: cannot patch %s.%s on this %s", target.module, target.attribute, sdk)


def unwrap_targets(targets: Iterable[WrapTarget], sdk: str) -> None:
    """Undo `wrap_targets(targets, ..., sdk)`, skipping whatever could not be patched."""
    collected.remove(sdk)
    for target in targets:
        owner_path, _, name = target.attribute.rpartition(".")
        try:
            owner: Any = importlib.import_module(target.module)
            for part in filter(None, owner_path.split(".")):
                owner = getattr(owner, part)
            unwrap(owner, name)
        except (AttributeError, ImportError):
            continue


def _price_table(settings: Settings, extra: Any) -> PriceTable:
    """The built-in prices, then the file of `ANTHROPIC_OTEL_PRICES`, then `instrument(prices=...)`.

    `prices` may be a `PriceTable`, a mapping in the format of the package's `prices.json`, or the
    path of such a file. A bad one is reported and ignored: prices must never stop the application.
    """
    table = PriceTable.load_default()
    if settings.prices_path:
        try:
            table = table.merged(PriceTable.from_file(settings.prices_path))
        except PriceTableError as error:
            log.warning(
                "anthropic-otel: ignoring the price file named by %s: %s; using the built-in prices", PRICES.name, error
            )
    if extra is None:
        return table
    try:
        if isinstance(extra, PriceTable):
            return table.merged(extra)
        if isinstance(extra, (str, os.PathLike)):
            return table.merged(PriceTable.from_file(extra))
        return table.merged(PriceTable.from_mapping(extra, origin="instrument(prices=...)"))
    except PriceTableError as error:
        log.warning("anthropic-otel: ignoring instrument(prices=...): %s; using the built-in prices", error)
        return table


def _warn_about_peers() -> None:
    """Warn once per instrument() if another instrumentation already wraps the SDK's methods."""
    for module_name, class_name, method in _PEER_TARGETS:
        try:
            function = getattr(getattr(importlib.import_module(module_name), class_name), method)
        except (AttributeError, ImportError):
            continue
        if isinstance(function, WRAPPER_TYPE):
            wrapper = getattr(function, "_self_wrapper", None)
            owner = getattr(wrapper, "__module__", None) or type(function).__module__
            log.warning(
                "anthropic-otel: %s.%s.%s is already wrapped by %s; its spans will appear beside ours. "
                "Disable one of them (e.g. OTEL_PYTHON_DISABLED_INSTRUMENTATIONS) to get one span per call.",
                module_name,
                class_name,
                method,
                owner,
            )
            return
