"""Retention campaigns (issue 6): give each customer of an audience a coupon of their own,
exactly once, re-runnable from cron, exported for the sender and measured afterwards.

* ``audiences`` — RFM segments, first-order follow-up, inactive, points expiring;
* ``issue`` — create / run / pause / resume, coupons exactly once per (campaign, customer);
* ``export`` — rows and rendered messages (English and Persian templates);
* ``results`` — issued, used, conversion, revenue, discount, cost per returning customer,
  and the return rate against a hold-out group.

See docs/campaigns.md.
"""

from loyalty.campaigns import _schema  # noqa: F401  # registers the tables on the metadata
from loyalty.campaigns.audiences import Audience, parse_audience, select_audience
from loyalty.campaigns.export import TEMPLATES, ExportRow, export_rows
from loyalty.campaigns.issue import (
    Campaign,
    CampaignError,
    CampaignSpec,
    Member,
    Preview,
    RunResult,
    create_campaign,
    get_campaign,
    list_campaigns,
    members,
    preview,
    run_campaign,
    set_status,
)
from loyalty.campaigns.results import CampaignResults, campaign_results

__all__ = [
    "TEMPLATES",
    "Audience",
    "Campaign",
    "CampaignError",
    "CampaignResults",
    "CampaignSpec",
    "ExportRow",
    "Member",
    "Preview",
    "RunResult",
    "campaign_results",
    "create_campaign",
    "export_rows",
    "get_campaign",
    "list_campaigns",
    "members",
    "parse_audience",
    "preview",
    "run_campaign",
    "select_audience",
    "set_status",
]
