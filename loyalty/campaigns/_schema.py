"""Retention campaigns' tables, on the mirror's metadata (created by migration 0003).

* ``campaigns`` — one row per campaign of a store: who it targets (``audience``), what each
  customer gets (``discount_type`` ``fixed_cart`` with the money ``amount``, or ``percent``
  with the ``percent`` off and an ``amount`` of 0: migration 0011 moved percentages out of
  the money column), for how long, the hold-out share, and whether it is ``active`` or
  ``paused``.
* ``campaign_members`` — one row per (campaign, identity), ever: UNIQUE(campaign_id,
  identity) is what makes "one coupon per customer per campaign" hold across crashes and
  re-runs. ``status``: ``pending`` (recorded, coupon maybe not on the store yet) →
  ``issued``; ``failed`` when the store refused the coupon for good; ``holdout`` for the
  control group (``holdout`` true, never a coupon).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

from connector import Money, UTCDateTime, from_units, metadata, to_units


class Percent(TypeDecorator[Decimal]):
    """A percentage with up to 4 decimals, exact: BIGINT units of 10⁻⁴ percentage points
    (SQLite has no exact decimal type)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_units(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_units(value)


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, ForeignKey("stores.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("audience", String(100), nullable=False),
    Column("discount_type", String(20), nullable=False),  # percent | fixed_cart
    Column("amount", Money, nullable=False),  # fixed_cart: the amount off; percent: 0
    Column("percent", Percent),  # percent: the percentage off (12.5 = 12.5 %); else NULL
    Column("valid_days", Integer, nullable=False),
    Column("min_spend", Money),
    Column("holdout_percent", Integer, nullable=False),  # 0–90
    Column("status", String(20), nullable=False),  # active | paused
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime),
    UniqueConstraint("store_id", "name", name="uq_campaigns_store_name"),
)

campaign_members = Table(
    "campaign_members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("identity", String(400), nullable=False),
    Column("email", String(320), nullable=False),
    Column("holdout", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # pending | issued | failed | holdout
    # Random (loyalty.codes), stored before the coupon is made; None for hold-out members.
    Column("code", String(64)),
    Column("coupon_id", BigInteger),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("issued_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    UniqueConstraint("campaign_id", "identity", name="uq_campaign_members_identity"),
    Index("ix_campaign_members_status", "campaign_id", "status"),
    Index("ix_campaign_members_code", "code"),
)

CAMPAIGN_TABLES = (campaigns, campaign_members)

__all__ = ["CAMPAIGN_TABLES", "campaign_members", "campaigns"]
