"""What `instrument()` sets up, in one object that every call reports to.

The tracer, the metric instruments, the call-record log, the cardinality limiters (routes, models,
error types) and the settings are made once per `instrument()`; the hooks patched into the SDK
read them from here. Calls that start after `uninstrument()` find none and pass through untouched.
"""

from __future__ import annotations

import logging
from typing import Optional

from opentelemetry._logs import Logger
from opentelemetry.trace import Tracer, TracerProvider

from anthropic_otel._cardinality import error_type_limiter, model_limiter, tool_name_limiter
from anthropic_otel._config import Settings
from anthropic_otel._content_capture import ContentCapture, ContentHook
from anthropic_otel._diagnostics import Diagnostics, Reporter
from anthropic_otel._metrics import Instruments
from anthropic_otel._read.platforms import priced_as
from anthropic_otel._read.price_table import PriceTable
from anthropic_otel._read.pricing import Cost, UnpricedModels, cost_of
from anthropic_otel._records import CallLog
from anthropic_otel._routes import RouteLimiter
from anthropic_otel._session_usage import SessionUsage

__all__ = ["Telemetry"]

log = logging.getLogger(__name__)

_FIRST_PARTY: tuple[str, Optional[str]] = ("anthropic", None)


class Telemetry:
    """The tracer, instruments and record log calls report to, with the settings they were made under.

    `content` is None unless content capture is on: the one check a call makes when it is off.
    """

    __slots__ = (
        "active",
        "call_log",
        "content",
        "diagnostics",
        "error_types",
        "instruments",
        "models",
        "prices",
        "routes",
        "sessions",
        "settings",
        "tool_names",
        "tracer",
        "tracer_provider",
        "unpriced",
    )

    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        logger: Logger,
        settings: Optional[Settings] = None,
        prices: Optional[PriceTable] = None,
        *,
        content_hook: Optional[ContentHook] = None,
        tracer_provider: Optional[TracerProvider] = None,
    ) -> None:
        self.settings = settings or Settings()
        # The provider `instrument(tracer_provider=...)` named, if any: spans must go there.
        self.tracer_provider = tracer_provider
        self.active = True  # False once uninstrument() (or a new instrument()) replaced it
        self.tracer = tracer
        self.instruments = instruments
        self.call_log = CallLog(logger, self.settings.log_calls)
        self.routes = RouteLimiter(self.settings.max_routes)
        self.prices = prices or PriceTable.load_default()
        self.models = model_limiter(self.settings.max_models, self.prices.rows)
        self.error_types = error_type_limiter()
        self.tool_names = tool_name_limiter()
        self.unpriced = UnpricedModels()
        self.sessions = SessionUsage()
        self.diagnostics = Diagnostics(
            Reporter(instruments.diagnostics, self.settings.diagnostics, self.settings.diagnostics_warn, self.models)
        )
        self.content = ContentCapture.from_settings(self.settings, content_hook)

    def cost(
        self, model: str, usage: object, *, batch: bool = False, platform: tuple[str, Optional[str]] = _FIRST_PARTY
    ) -> Optional[Cost]:
        """What `usage` of `model` cost through `platform` (`_sdk.platform_of`); None if it has no price.

        An unknown model is warned about once per process and platform, naming the fix.
        """
        where = priced_as(platform[0], model, platform[1])
        cost = None
        if where is not None:
            cost = cost_of(
                usage, where.model, self.prices, batch=batch, price_list=where.price_list, profile=where.profile
            )
        if cost is None and self.unpriced.first_time(f"{platform[0]}:{model}"):
            log.warning(
                "anthropic-otel: no price for model %r in the %s price list, so its calls record no cost. Add it "
                "to a price file named by ANTHROPIC_OTEL_PRICES (or instrument(prices=...)); see docs/cost.md.",
                model,
                where.price_list if where is not None else platform[0],
            )
        return cost
