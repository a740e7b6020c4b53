"""The retention analytics' use cases: which store and instant a report describes, the order
statuses it counts, and the metrics, cohorts, RFM and HTML report of it.

``analysis_target`` checks what the owner asked for before any work: the *as of* instant
(not in the future: the future has no orders, every figure would be a silent 0) and the
statuses (a typo is an error, not a report of zeros). Those mistakes raise ``BadOption``,
which an entry point shows as a mistake in that option.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from app._registry import Registry
from connector import CORE_ORDER_STATUSES, ConfigError
from loyalty.analytics import (
    Calendar,
    MetricsReport,
    MetricsRequest,
    cohort_table,
    compute_metrics,
    open_analysis,
    report_html,
    rfm_members,
    rfm_summary,
)
from loyalty.analytics.cohorts import CohortTable
from loyalty.analytics.periods import parse_instant
from loyalty.analytics.queries import StoreInfo, known_statuses, store_info
from loyalty.analytics.rfm import RfmMember, RfmSummary


class BadOption(ConfigError):
    """An option's value the analysis cannot use; ``option`` names it (``--as-of``…)."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class AnalysisTarget:
    """The store an analysis describes, its facts, and the *as of* instant."""

    name: str
    engine: Engine
    store_id: int
    info: StoreInfo
    as_of: datetime
    #: Where the store's loyalty settings are read when a figure needs them (the database).
    registry: Registry = field(repr=False, compare=False)

    def point_value(self) -> Decimal | None:
        """The loyalty point value the owner set (``None``: the currency's default), from
        the settings stored in the database (``program_for``), never the config file."""
        from app._settings import program_for  # the loyalty program: only here
        from loyalty.stored import SettingsNotImported

        try:
            program = program_for(self.registry, self.name, datetime.now(UTC), create=False)
        except SettingsNotImported:
            return None
        return program.point_value if program.sources.get("point_value") == "config" else None

    def statuses(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """Each status WooCommerce's own or one the store's orders have."""
        if all(status in CORE_ORDER_STATUSES for status in wanted):
            return wanted  # the defaults, or any of WooCommerce's own: no need to look
        with self.engine.connect() as conn:
            known = known_statuses(conn, self.store_id)
        for status in wanted:
            if status not in known:
                close = difflib.get_close_matches(status, sorted(known), n=1)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise BadOption(
                    f"--statuses: {status!r} is not an order status of store {self.name!r}; "
                    f"{guess}Statuses: {', '.join(sorted(known - {'trash'}))}.",
                    "--statuses",
                )
        return wanted


def analysis_target(registry: Registry, store: str | None, as_of: str | None) -> AnalysisTarget:
    """The store (the only one when ``store`` is None) as of ``as_of`` (default: now)."""
    name = registry.pick_stores([store] if store else None, False)[0]
    engine = registry.engine()
    store_id = registry.store_id(name)
    with engine.connect() as conn:
        info = store_info(conn, store_id)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        when = now if as_of is None else parse_instant(as_of, info.zone)
    except ValueError as exc:
        raise BadOption(f"--as-of: {exc}", "--as-of") from None
    if when > now:
        local = now.astimezone(info.zone)
        raise BadOption(
            f"--as-of {as_of} is in the future (it is {local:%Y-%m-%d %H:%M} in the "
            f"store's time zone, {info.timezone}): a report describes what has "
            "happened. Leave --as-of out for now.",
            "--as-of",
        )
    return AnalysisTarget(name, engine, store_id, info, when, registry)


def store_metrics(target: AnalysisTarget, request: MetricsRequest) -> MetricsReport:
    return compute_metrics(target.engine, target.store_id, request)


def store_cohorts(
    target: AnalysisTarget, statuses: tuple[str, ...], calendar: Calendar, months: int
) -> CohortTable:
    with open_analysis(
        target.engine, target.store_id, as_of=target.as_of, statuses=target.statuses(statuses)
    ) as analysis:
        return cohort_table(analysis.counted, target.info.zone, calendar, months)


def store_rfm(
    target: AnalysisTarget, statuses: tuple[str, ...], segment: str | None
) -> tuple[RfmSummary, list[RfmMember] | None]:
    """The RFM segments, and the customers of ``segment`` when one is named."""
    with open_analysis(
        target.engine, target.store_id, as_of=target.as_of, statuses=target.statuses(statuses)
    ) as analysis:
        summary = rfm_summary(analysis.counted)
        members = rfm_members(analysis.counted, segment) if segment else None
    return summary, members


def store_report_html(target: AnalysisTarget, request: MetricsRequest, lang: str) -> str:
    """The self-contained HTML report."""
    return report_html(
        target.engine, target.store_id, datetime.now(UTC), request=request, lang=lang
    )
