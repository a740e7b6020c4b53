"""The campaigns' use cases: preview, create and run, run again, pause and resume, list,
export and report. Each takes the store registry and a store (its name and database id, as
``store_ref`` gives them) and returns what an entry point renders."""

from __future__ import annotations

from datetime import datetime

from app._registry import Registry
from app._settings import program_for
from loyalty import Program
from loyalty.analytics.queries import StoreInfo, store_info
from loyalty.campaigns import (
    Campaign,
    CampaignResults,
    CampaignSpec,
    ExportRow,
    Preview,
    RunResult,
    campaign_results,
    create_campaign,
    export_rows,
    get_campaign,
    list_campaigns,
    parse_audience,
    preview,
    run_campaign,
    set_status,
)


def store_ref(registry: Registry, name: str | None) -> tuple[str, int]:
    """The store a campaign command works on (the only one when ``name`` is None) and its
    database id (``ConfigError`` before its first sync)."""
    store = registry.pick_stores([name] if name else None, False)[0]
    return store, registry.store_id(store)


def store_facts(registry: Registry, store_id: int) -> StoreInfo:
    """The store's currency, decimals and timezone, as campaigns show money and dates."""
    with registry.engine().connect() as conn:
        return store_info(conn, store_id)


def audience_program(
    registry: Registry, store: str, audience: str, now: datetime
) -> Program | None:
    """The loyalty program, when the audience needs it (points-expiring)."""
    if parse_audience(audience).kind != "points-expiring":
        return None
    return program_for(registry, store, now, create=False)


def preview_campaign(
    registry: Registry, store: tuple[str, int], spec: CampaignSpec, now: datetime
) -> tuple[Preview, StoreInfo]:
    """The dry run: who would get a coupon, and what it can cost. Nothing is written."""
    program = audience_program(registry, store[0], spec.audience, now)
    found = preview(registry.engine(), store[1], spec, now, program=program)
    return found, store_facts(registry, store[1])


def create_and_run(
    registry: Registry, store: tuple[str, int], spec: CampaignSpec, now: datetime
) -> RunResult:
    """Create the campaign and run it at once."""
    program = audience_program(registry, store[0], spec.audience, now)
    create_campaign(registry.engine(), store[1], spec, now)
    return _run(registry, store, spec.name, now, program)


def run_again(registry: Registry, store: tuple[str, int], name: str, now: datetime) -> RunResult:
    """Run an existing campaign: coupons for newcomers, pending ones finished."""
    found = get_campaign(registry.engine(), store[1], name)
    program = audience_program(registry, store[0], found.audience, now)
    return _run(registry, store, name, now, program)


def _run(
    registry: Registry, store: tuple[str, int], name: str, now: datetime, program: Program | None
) -> RunResult:
    with registry.client(store[0]) as client:
        return run_campaign(registry.engine(), client, store[1], name, now, program=program)


def set_campaign_status(registry: Registry, store_id: int, name: str, status: str) -> Campaign:
    return set_status(registry.engine(), store_id, name, status)


def store_campaigns(registry: Registry, store_id: int) -> list[Campaign]:
    return list_campaigns(registry.engine(), store_id)


def campaign_export(
    registry: Registry, store_id: int, name: str, template: str, language: str
) -> list[ExportRow]:
    """One row per issued coupon, with the message ``template`` makes for it."""
    found = get_campaign(registry.engine(), store_id, name)
    return export_rows(registry.engine(), found, template, language)


def campaign_report(
    registry: Registry, store_id: int, name: str, now: datetime
) -> tuple[CampaignResults, StoreInfo]:
    """What the campaign brought back, and the store's money facts to show it."""
    found = get_campaign(registry.engine(), store_id, name)
    return campaign_results(registry.engine(), found, now), store_facts(registry, store_id)
